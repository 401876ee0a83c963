//! The per-call store state: an empty WASI context and the resource limiter.
//!
//! Rust's standard library on `wasm32-wasip2` imports WASI interfaces even when a plugin never
//! touches a file, so the host links WASI but gives it nothing: no preopened directories, no
//! environment, no arguments, no sockets, no name lookup. The wall clock is fixed and the random
//! sources are seeded, so a plugin's output depends only on its inputs. Standard error goes to a
//! bounded in-memory pipe whose tail is attached to trap reports (it holds panic messages).

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Duration;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How much of a plugin's standard error is kept.
const STDERR_CAPACITY: usize = 64 * 1024;

/// The state of one store: one plugin, one call.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    memory_limit: usize,
    /// The size a denied memory growth asked for, so a resulting trap is reported as such.
    pub(crate) memory_denied: Option<usize>,
}

/// A wall clock that always reads the Unix epoch.
struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl Sandbox {
    pub(crate) fn new(memory_limit: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .wall_clock(FixedClock)
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
            memory_limit,
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

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for Sandbox {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
