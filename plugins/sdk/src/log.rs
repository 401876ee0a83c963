//! Diagnostic messages to the host: `tenant_plugin_sdk::log::info("...")`. The host keeps a
//! bounded number per call, shows them with `-v` and attaches them to the report of a failed
//! call; they never change the output. In native builds (tests) they go to standard error.

/// How important a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Always shown.
    Error,
    /// Always shown.
    Warning,
    /// Shown with `-v`.
    Info,
    /// Shown with `-v`.
    Debug,
}

/// Records `message` at `level`.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__guest::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{level:?}: {message}");
}

/// Records an error message.
pub fn error(message: &str) {
    log(Level::Error, message);
}

/// Records a warning.
pub fn warn(message: &str) {
    log(Level::Warning, message);
}

/// Records an informational message.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Records a debugging message.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}
