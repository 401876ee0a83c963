//! One module per subcommand; `main` parses the command line and dispatches here.

pub mod access;
pub mod check;
pub mod plugins;
pub mod progress;
pub mod run_args;
pub mod synth;

pub(crate) use crate::EXIT_POLICY_ERRORS;
