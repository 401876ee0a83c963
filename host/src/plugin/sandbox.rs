//! The per-call store state: an empty WASI context and the resource limiter.
//!
//! Rust's standard library on `wasm32-wasip2` imports WASI interfaces even when a plugin never
//! touches a file, so the host links WASI but gives it nothing: no preopened directories, no
//! environment, no arguments, no sockets, no name lookup. Both clocks are fixed (and waiting on
//! one traps, see `runtime`) and the random sources are seeded, so a plugin's output depends only on its inputs. Standard error goes to a
//! bounded in-memory pipe whose tail is attached to trap reports (it holds panic messages).
//!
//! A 0.2 plugin may also call the contract's `host.log`; the messages of one call are kept here,
//! bounded, until the call ends.

use super::bindings::v0_2::tenant::plugin::host::{Host, LogLevel};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Duration;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How much of a plugin's standard error is kept.
const STDERR_CAPACITY: usize = 64 * 1024;
/// How many `host.log` messages one call keeps.
pub(crate) const MAX_LOG_MESSAGES: usize = 64;
/// How many bytes of `host.log` text one call keeps.
pub(crate) const MAX_LOG_BYTES: usize = 16 * 1024;

/// The `host.log` messages of one call, bounded by count and bytes; the rest are only counted.
#[derive(Debug, Default)]
pub(crate) struct PluginLog {
    pub(crate) messages: Vec<(LogLevel, String)>,
    bytes: usize,
    pub(crate) dropped: usize,
}

impl PluginLog {
    fn push(&mut self, level: LogLevel, message: String) {
        if self.messages.len() >= MAX_LOG_MESSAGES || self.bytes + message.len() > MAX_LOG_BYTES {
            self.dropped += 1;
            return;
        }
        self.bytes += message.len();
        self.messages.push((level, message));
    }

    /// The messages as lines for an error report, with a count of those not kept.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .messages
            .iter()
            .map(|(level, message)| format!("{}: {message}", level_name(*level)))
            .collect();
        if self.dropped > 0 {
            lines.push(format!("({} more messages not kept)", self.dropped));
        }
        lines
    }
}

/// The level as the WIT names it.
pub(crate) fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Error => "error",
        LogLevel::Warning => "warning",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    }
}

/// The state of one store: one plugin, one call.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    /// What the plugin logged through `host.log` during this call.
    pub(crate) log: PluginLog,
    memory_limit: usize,
    /// Bytes of linear memory all of the instance's memories hold together.
    memory_in_use: usize,
    /// The total a denied memory growth asked for, so a resulting trap is reported as such.
    pub(crate) memory_denied: Option<usize>,
}

/// Bounds on what one plugin instance may create. A component made by `wasm32-wasip2` has a few
/// core instances, one memory and a few tables; these leave room without letting a crafted
/// component multiply its memory cap.
pub(crate) const MAX_CORE_INSTANCES: usize = 32;
pub(crate) const MAX_MEMORIES: usize = 4;
pub(crate) const MAX_TABLES: usize = 32;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

/// A wall clock that always reads the Unix epoch, and a monotonic clock that always reads zero.
struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        0
    }
}

impl Sandbox {
    pub(crate) fn new(memory_limit: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .wall_clock(FixedClock)
            .monotonic_clock(FixedClock)
            .secure_random(StdRng::seed_from_u64(0))
            .insecure_random(StdRng::seed_from_u64(1))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            stderr,
            log: PluginLog::default(),
            memory_limit,
            memory_in_use: 0,
            memory_denied: None,
        }
    }

    /// The last lines the plugin wrote to standard error, if any.
    pub(crate) fn stderr_tail(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n");
        (!tail.is_empty()).then_some(tail)
    }
}

impl Host for Sandbox {
    fn log(&mut self, level: LogLevel, message: String) {
        self.log.push(level, message);
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for Sandbox {
    /// Counts every memory of the instance against one cap, so that several memories cannot add
    /// up to more than the cap allows one.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_in_use.saturating_sub(current) + desired;
        if total > self.memory_limit {
            self.memory_denied = Some(total);
            return Ok(false);
        }
        self.memory_in_use = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_a_bounded_number_of_messages_and_counts_the_rest() {
        let mut sandbox = Sandbox::new(1 << 20);
        for i in 0..MAX_LOG_MESSAGES + 3 {
            sandbox.log(LogLevel::Info, format!("message {i}"));
        }
        assert_eq!(sandbox.log.messages.len(), MAX_LOG_MESSAGES);
        assert_eq!(sandbox.log.lines().last().unwrap(), "(3 more messages not kept)");
        let mut sandbox = Sandbox::new(1 << 20);
        sandbox.log(LogLevel::Error, "x".repeat(MAX_LOG_BYTES));
        sandbox.log(LogLevel::Error, "one byte too many".into());
        assert_eq!(sandbox.log.messages.len(), 1);
        assert_eq!(sandbox.log.dropped, 1);
    }
}
