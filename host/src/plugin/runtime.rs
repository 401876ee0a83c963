//! One engine and one linker for every plugin, a ticker that bounds call time, and the wrapper
//! through which every call into a plugin goes.

use super::bindings::{PluginPre, api};
use super::sandbox::Sandbox;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Linker, Resource};
use wasmtime::{Config, Engine, Store, Trap};
use wasmtime_wasi::p2::DynPollable;

/// How often the epoch advances; the granularity of the call time bound.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The bounds every plugin call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time one call may take.
    pub call_timeout: Duration,
    /// Linear memory one plugin instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// Bytes one call may return (strings and byte lists added up).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(10),
            memory_bytes: 256 << 20,
            output_bytes: 64 << 20,
        }
    }
}

/// The contract function a call went to; named as in the WIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `describe`
    Describe,
    /// `synthesize-central`
    SynthesizeCentral,
    /// `synthesize-tenant`
    SynthesizeTenant,
    /// `check-stack`
    CheckStack,
    /// `check-fleet`
    CheckFleet,
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Describe => "describe",
            Self::SynthesizeCentral => "synthesize-central",
            Self::SynthesizeTenant => "synthesize-tenant",
            Self::CheckStack => "check-stack",
            Self::CheckFleet => "check-fleet",
        })
    }
}

/// Why a call into a plugin did not produce a usable result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The call ran past the time bound and was interrupted.
    #[error("did not return within {0:?} (raise --plugin-timeout if the plugin is slow, not stuck)")]
    Timeout(Duration),
    /// The plugin tried to grow its memory past the cap.
    #[error("exceeded the memory limit of {limit_mib} MiB (it asked for {asked_mib} MiB)")]
    MemoryLimit {
        /// The cap.
        limit_mib: usize,
        /// What the denied growth asked for.
        asked_mib: usize,
    },
    /// The plugin returned more than the output cap.
    #[error("returned {size} bytes, more than the limit of {limit} bytes")]
    OutputTooLarge {
        /// What it returned.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// The plugin trapped (a panic, an unreachable, an out-of-bounds access).
    #[error("trapped: {0}")]
    Trap(String),
    /// The plugin returned its own error.
    #[error("returned an error: {0}")]
    Rejected(String),
    /// The plugin returned something the contract forbids.
    #[error("broke the contract: {0}")]
    Contract(String),
    /// Another call of the run failed first, so this one was not started or was interrupted.
    #[error("was cancelled because another plugin call of the run failed first")]
    Cancelled,
}

/// A failed call, naming the plugin, the stack and the function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{plugin}` failed in `{function}` for {stack}: {failure}")]
pub struct CallError {
    /// The plugin's name (or file, before it has described itself).
    pub plugin: String,
    /// The stack, `stack `name``, `the fleet`, or `loading`.
    pub stack: String,
    /// The function called.
    pub function: Function,
    /// What went wrong (part of the message, so not a separate cause).
    pub failure: CallFailure,
}

/// The engine, the linker and the epoch ticker shared by every plugin call.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    limits: Limits,
    ticker_stop: Arc<AtomicBool>,
    /// Set by [`Runtime::cancel`]: calls not yet started fail at once, running ones at the next
    /// epoch tick.
    cancelled: Arc<AtomicBool>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// An engine with epoch interruption, a linker with an empty WASI, and a running ticker.
    pub fn new(limits: Limits) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Compiled components are cached on disk (keyed by the component's bytes and the engine's
        // settings), so only the first run after a plugin changes pays for compilation.
        match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(error) => tracing::debug!("compilation cache unavailable, compiling every run: {error:#}"),
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        forbid_waiting(&mut linker)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking_engine, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticking_engine.increment_epoch();
                }
            })?;
        Ok(Self {
            engine,
            linker,
            limits,
            ticker_stop,
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Cancels every call of this runtime: the first failure of a run makes the rest of its
    /// work pointless. Calls not yet started fail with [`CallFailure::Cancelled`] at once,
    /// running ones within one epoch tick (10 ms).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The shared engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The shared linker.
    pub(crate) fn linker(&self) -> &Linker<Sandbox> {
        &self.linker
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Calls `body` on a fresh instance of `pre` in a fresh, bounded store, and turns every way
    /// it can fail into a [`CallError`] naming `plugin`, `stack` and `function`.
    pub(crate) fn call<R: OutputSize>(
        &self,
        pre: &PluginPre<Sandbox>,
        plugin: &str,
        stack: &str,
        function: Function,
        body: impl FnOnce(&api::Guest, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let error = |failure| CallError {
            plugin: plugin.into(),
            stack: stack.into(),
            function,
            failure,
        };
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(error(CallFailure::Cancelled));
        }
        let mut store = Store::new(&self.engine, Sandbox::new(self.limits.memory_bytes));
        store.limiter(|sandbox| sandbox);
        let mut ticks_left = (self.limits.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        // Checked at every tick: the time bound, and whether the run was cancelled.
        let cancelled = self.cancelled.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            ticks_left -= 1;
            if ticks_left == 0 || cancelled.load(Ordering::Relaxed) {
                return Err(Trap::Interrupt.into());
            }
            Ok(wasmtime::UpdateDeadline::Continue(1))
        });
        let result = pre
            .instantiate(&mut store)
            .and_then(|instance| body(instance.tenant_plugin_plugin_api(), &mut store));
        let value = result.map_err(|e| error(self.classify(&e, store.data())))?;
        let size = value.output_size();
        if size > self.limits.output_bytes {
            return Err(error(CallFailure::OutputTooLarge {
                size,
                limit: self.limits.output_bytes,
            }));
        }
        Ok(value)
    }

    fn classify(&self, error: &wasmtime::Error, sandbox: &Sandbox) -> CallFailure {
        if self.cancelled.load(Ordering::Relaxed) {
            return CallFailure::Cancelled;
        }
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return CallFailure::Timeout(self.limits.call_timeout);
        }
        if let Some(asked) = sandbox.memory_denied {
            return CallFailure::MemoryLimit {
                limit_mib: self.limits.memory_bytes >> 20,
                asked_mib: asked >> 20,
            };
        }
        // The root cause names the trap; the wasm backtrace is kept for `-v`.
        tracing::debug!("plugin trap: {error:?}");
        let mut message = error.root_cause().to_string();
        if let Some(stderr) = sandbox.stderr_tail() {
            message.push_str(&format!("\nplugin stderr:\n{stderr}"));
        }
        CallFailure::Trap(message)
    }
}

/// The WASI clock a plugin could wait on. A wait blocks inside the host, where the epoch deadline
/// cannot interrupt it, so subscribing to the clock traps instead: no plugin needs to wait.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

fn forbid_waiting(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    fn refuse() -> wasmtime::Result<(Resource<DynPollable>,)> {
        Err(wasmtime::Error::msg(
            "plugins may not wait on a clock (the host bounds every call; return a result instead)",
        ))
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |_, (_,): (u64,)| refuse())?;
    clock.func_wrap("subscribe-instant", |_, (_,): (u64,)| refuse())?;
    linker.allow_shadowing(false);
    Ok(())
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The number of bytes a plugin returned, for the output cap.
pub(crate) trait OutputSize {
    fn output_size(&self) -> usize;
}

impl<T: OutputSize, E: OutputSize> OutputSize for Result<T, E> {
    fn output_size(&self) -> usize {
        match self {
            Ok(value) => value.output_size(),
            Err(error) => error.output_size(),
        }
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum()
    }
}

impl OutputSize for api::PluginError {
    fn output_size(&self) -> usize {
        match self {
            Self::InvalidSettings(m)
            | Self::InvalidContext(m)
            | Self::InvalidDocument(m)
            | Self::Internal(m) => m.len(),
        }
    }
}

impl OutputSize for api::Fragment {
    fn output_size(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| b.type_name.len() + b.name.len() + b.body.len())
            .sum();
        let outputs: usize = self
            .outputs
            .iter()
            .map(|o| o.name.len() + o.value.len() + o.description.len())
            .sum();
        let provides: usize = self.provides.iter().map(|v| v.name.len() + v.value.len()).sum();
        let assets: usize = self.assets.iter().map(|a| a.path.len() + a.contents.len()).sum();
        blocks + outputs + provides + assets
    }
}

impl OutputSize for api::Finding {
    fn output_size(&self) -> usize {
        self.rule_id.len() + self.address.len() + self.message.len() + self.remediation.len()
    }
}

impl OutputSize for api::PluginInfo {
    fn output_size(&self) -> usize {
        let declarations = |list: &[api::ValueDeclaration]| -> usize {
            list.iter().map(|d| d.name.len() + d.description.len()).sum()
        };
        let rules: usize = self.rules.iter().map(|r| r.id.len() + r.description.len()).sum();
        let settings: usize = self
            .settings
            .iter()
            .map(|s| s.name.len() + s.description.len() + s.default_value.len())
            .sum();
        self.name.len()
            + self.version.len()
            + self.contract_version.len()
            + self.summary.len()
            + declarations(&self.provides)
            + declarations(&self.requires)
            + rules
            + settings
    }
}
