//! Plugin loading and calling: the contract's bindings, the sandbox each call runs in, and the
//! bounded call wrapper.

mod bindings;
mod loader;
mod precompiled;
mod runtime;
mod sandbox;

pub use bindings::api;
pub use loader::{LoadError, LoadedPlugin, load_plugin, load_plugins};
pub use runtime::{CallError, CallFailure, Function, Limits, Runtime};
