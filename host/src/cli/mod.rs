//! One module per subcommand; `main` parses the command line and dispatches here.

pub mod access;
pub mod check;
pub mod deploy;
pub mod plan_rollout;
pub mod plugins;
pub mod progress;
pub mod registry;
pub mod run_args;
pub mod synth;
pub mod tenants;

pub(crate) use crate::EXIT_POLICY_ERRORS;
