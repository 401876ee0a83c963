//! One module per subcommand; `main` parses the command line and dispatches here.

pub mod synth;

pub(crate) use crate::EXIT_POLICY_ERRORS;
