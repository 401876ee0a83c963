//! One engine and one linker for every plugin, a ticker that bounds call time, and the wrapper
//! through which every call into a plugin goes.

use super::bindings::{api, v0_2};
use super::precompiled::ComponentCache;
use super::sandbox::{MAX_CORE_INSTANCES, MAX_MEMORIES, MAX_TABLE_ELEMENTS, MAX_TABLES, Sandbox, level_name};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker, Resource};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
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

/// How much Cranelift optimises the plugins' machine code. Compiled code is cached per tier (the
/// cache key includes the engine's settings), so each tier compiles a plugin once.
///
/// Measured on the example's seven plugins (2 cores): the quick tier compiles them in 0.71-0.83 s
/// instead of 1.40-1.53 s, and its code runs the example in 47 ms instead of 43 ms, but 100
/// tenants in 0.41 s instead of 0.29 s. A small fleet's run is mostly compiling when the cache is
/// empty (a fresh CI runner), a large fleet's mostly running plugin code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeTier {
    /// No optimisation passes and single-pass register allocation.
    Quick,
    /// Cranelift's defaults: optimised for speed, backtracking register allocation.
    Optimized,
}

impl CodeTier {
    /// The largest fleet [`CodeTier::for_fleet`] compiles quickly for: from here on the quick
    /// tier's slower code costs a run more than the compile time it saved (at 10 tenants about
    /// 15 ms against 0.7 s, so it pays back after some fifty warm runs).
    pub const QUICK_MAX_TENANTS: usize = 10;

    /// The tier for a run over `tenants` tenants.
    pub fn for_fleet(tenants: usize) -> Self {
        if tenants <= Self::QUICK_MAX_TENANTS {
            Self::Quick
        } else {
            Self::Optimized
        }
    }

    fn configure(self, config: &mut Config) {
        if self == Self::Quick {
            config.cranelift_opt_level(wasmtime::OptLevel::None);
            config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
        }
    }

    /// Every tier, by its name on the command line.
    const NAMED: [(&'static str, CodeTier); 2] =
        [("quick", CodeTier::Quick), ("optimized", CodeTier::Optimized)];
}

impl fmt::Display for CodeTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, _) = Self::NAMED
            .iter()
            .find(|(_, tier)| tier == self)
            .expect("every tier is named");
        f.write_str(name)
    }
}

impl std::str::FromStr for CodeTier {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::NAMED
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, tier)| *tier)
            .ok_or_else(|| format!("expected `quick` or `optimized`, not `{name}`"))
    }
}

/// The contract function a call went to; named as in the WIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Function {
    /// `describe`
    Describe,
    /// `validate-settings`
    ValidateSettings,
    /// `contribute`
    Contribute,
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
            Self::ValidateSettings => "validate-settings",
            Self::Contribute => "contribute",
            Self::SynthesizeCentral => "synthesize-central",
            Self::SynthesizeTenant => "synthesize-tenant",
            Self::CheckStack => "check-stack",
            Self::CheckFleet => "check-fleet",
        })
    }
}

/// What a call's input is about: it may grow with the fleet only when it is about the fleet (or
/// the central stack, whose resources serve every tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// The plugin itself (`describe`) or the fleet-wide settings.
    Plugin,
    /// The central stack.
    Central,
    /// One tenant's stack or settings.
    Tenant,
    /// Every stack (`check-fleet`).
    Fleet,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plugin => "plugin",
            Self::Central => "central stack",
            Self::Tenant => "tenant",
            Self::Fleet => "fleet",
        })
    }
}

/// The largest input one plugin function received in one scope: the bytes of text (strings and
/// byte lists added up) of its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargestInput {
    /// The plugin.
    pub plugin: String,
    /// The function.
    pub function: Function,
    /// What the input was about.
    pub scope: Scope,
    /// Its size.
    pub bytes: usize,
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

/// A failed call, naming the plugin, the stack and the function, with what the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "plugin `{plugin}` failed in `{function}` for {stack}: {failure}{}",
    log_text(log)
)]
pub struct CallError {
    /// The plugin's name (or file, before it has described itself).
    pub plugin: String,
    /// The stack, `stack `name``, `the fleet`, or `loading`.
    pub stack: String,
    /// The function called.
    pub function: Function,
    /// What went wrong (part of the message, so not a separate cause).
    pub failure: CallFailure,
    /// What the plugin logged through `host.log` during the call, one line per message.
    pub log: Vec<String>,
}

impl CallError {
    /// A failure found by the host after the call, when the plugin's log is gone.
    pub fn after_call(plugin: &str, stack: &str, function: Function, failure: CallFailure) -> Self {
        Self {
            plugin: plugin.into(),
            stack: stack.into(),
            function,
            failure,
            log: Vec::new(),
        }
    }
}

fn log_text(log: &[String]) -> String {
    if log.is_empty() {
        return String::new();
    }
    format!("\nplugin log:\n  {}", log.join("\n  "))
}

/// The engine, the linker and the epoch ticker shared by every plugin call.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    limits: Limits,
    components: Option<ComponentCache>,
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
    /// An engine with epoch interruption that compiles plugins in `tier`, a linker with an empty
    /// WASI, and a running ticker.
    pub fn new(limits: Limits, tier: CodeTier) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        tier.configure(&mut config);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
        let engine = Engine::new(&config)?;
        // Compiled components are cached on disk (keyed by the component's bytes and the engine's
        // settings), so only the first run after a plugin changes pays for compilation.
        let components = ComponentCache::in_user_cache(&engine);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        v0_2::tenant::plugin::host::add_to_linker::<Sandbox, HasSelf<Sandbox>>(&mut linker, |sandbox| {
            sandbox
        })?;
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
            components,
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

    /// `bytes` (whose SHA-256 is `digest`) compiled for the shared engine, from the
    /// compiled-component cache when it has them.
    pub(crate) fn compile(&self, bytes: &[u8], digest: &str) -> wasmtime::Result<Component> {
        match &self.components {
            Some(cache) => cache.component(&self.engine, bytes, digest),
            None => Component::new(&self.engine, bytes),
        }
    }

    /// A second copy of `component` (just returned by [`compile`](Self::compile) for `digest`)
    /// with the same machine code but modules of its own, whose instances therefore take pooled
    /// slots of their own (the pool keeps a slot for the module that used it last). Mapped from
    /// the cache's file when there is one, which shares its pages; else copied in memory.
    pub(crate) fn duplicate(&self, component: &Component, digest: &str) -> wasmtime::Result<Component> {
        match self
            .components
            .as_ref()
            .and_then(|cache| cache.cached(&self.engine, digest))
        {
            Some(copy) => Ok(copy),
            None => crate::plugin::precompiled::duplicate(&self.engine, component),
        }
    }

    /// The shared linker.
    pub(crate) fn linker(&self) -> &Linker<Sandbox> {
        &self.linker
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Calls `body` in a fresh, bounded store (`body` instantiates the plugin there and calls one
    /// function), and turns every way it can fail, including the plugin's own error, into a
    /// [`CallError`] naming `plugin`, `stack` and `function`. What the plugin logged is shown
    /// (errors and warnings always, the rest with `-v`) and attached to a failure.
    pub(crate) fn call<T>(
        &self,
        plugin: &str,
        stack: &str,
        function: Function,
        body: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<Result<T, api::PluginError>>,
    ) -> Result<T, CallError>
    where
        Result<T, api::PluginError>: TextSize,
    {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(CallError::after_call(
                plugin,
                stack,
                function,
                CallFailure::Cancelled,
            ));
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
        let result = body(&mut store);
        let log = std::mem::take(&mut store.data_mut().log);
        for (level, message) in &log.messages {
            match level {
                v0_2::tenant::plugin::host::LogLevel::Error
                | v0_2::tenant::plugin::host::LogLevel::Warning => {
                    tracing::warn!(
                        "plugin `{plugin}` ({function}, {stack}) {}: {message}",
                        level_name(*level)
                    );
                }
                _ => tracing::debug!(
                    "plugin `{plugin}` ({function}, {stack}) {}: {message}",
                    level_name(*level)
                ),
            }
        }
        let error = |failure| CallError {
            plugin: plugin.into(),
            stack: stack.into(),
            function,
            failure,
            log: log.lines(),
        };
        let value = result.map_err(|e| error(self.classify(&e, store.data())))?;
        let size = value.text_size();
        if size > self.limits.output_bytes {
            return Err(error(CallFailure::OutputTooLarge {
                size,
                limit: self.limits.output_bytes,
            }));
        }
        value.map_err(|rejection| error(CallFailure::Rejected(rejection_text(rejection))))
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

/// Every call instantiates afresh (the isolation guarantee), so instances, memories and tables
/// come from a pool of reused slots instead of fresh mappings: a slot's memory is reset in place
/// (up to `KEEP_RESIDENT` by `memset`, beyond it by `madvise`), which spares the page faults and
/// `mmap`/`munmap` calls that otherwise cost a large part of every call. The memory cap stays the
/// sandbox's limiter's. Where Linux offers `PAGEMAP_SCAN` (6.7 and later), only resident pages
/// are reset, not the whole bound: on 1,000 tenants (`check`, 2 cores) that took `memset` from 9 %
/// of the CPU time to nothing measurable.
fn pool() -> PoolingAllocationConfig {
    /// About the heap a tenant stack's call touches. Without userfaultfd write protection,
    /// `PAGEMAP_SCAN` reports every resident page as written, so a slot's reset rewrites every page
    /// any earlier call left resident, up to this bound. The central stack's calls, which carry the
    /// whole fleet, touch more: at 10,000 tenants they left the slots they used 4 MiB resident,
    /// and dropping every later call's store took 60–71 µs instead of 29 (11 % of the run's CPU).
    /// 2 MiB keeps what tenant calls touch: 37–40 µs at 10,000 tenants, 29–31 µs at 1,000. 1 MiB
    /// left tenant calls' pages to `madvise` and page faults (0.8 s of system time at 300
    /// tenants), 16 MiB and more rewrote what no call touched.
    const KEEP_RESIDENT: usize = 2 << 20;
    // At most one store per worker thread is alive at a time; leave room for twice as many.
    let stores = 2 * std::thread::available_parallelism().map_or(1, |n| n.get()).max(2);
    let count = |per_store: usize| u32::try_from(stores * per_store).unwrap_or(u32::MAX);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(count(1))
        .total_core_instances(count(MAX_CORE_INSTANCES))
        // A memory or table slot goes preferably to the module that used it last, and keeps what
        // that module wrote resident (up to `KEEP_RESIDENT`). Every plugin runs in two copies, one
        // for tenant calls and one for the rest (see `LoadedPlugin`), so there are twice as many
        // slots as stores can hold at once: with only as many, tenant calls took over the slots
        // the central stack's calls had left resident, and resetting memory after each call cost
        // as much as without the copies. Unused slots cost address space only.
        .total_memories(count(2 * MAX_MEMORIES))
        .total_tables(count(2 * MAX_TABLES))
        .max_core_instances_per_component(MAX_CORE_INSTANCES as u32)
        .max_memories_per_component(MAX_MEMORIES as u32)
        .max_tables_per_component(MAX_TABLES as u32)
        .table_elements(MAX_TABLE_ELEMENTS)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pool
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

/// The bytes of text (strings and byte lists added up) a value carries across the boundary: what
/// a plugin returned, for the output cap, and what it was given, for [`LoadedPlugin::largest_inputs`](super::LoadedPlugin::largest_inputs).
pub(crate) trait TextSize {
    fn text_size(&self) -> usize;
}

impl<T: TextSize> TextSize for Option<T> {
    fn text_size(&self) -> usize {
        self.as_ref().map_or(0, TextSize::text_size)
    }
}

impl<T: TextSize> TextSize for [T] {
    fn text_size(&self) -> usize {
        self.iter().map(TextSize::text_size).sum()
    }
}

impl TextSize for str {
    fn text_size(&self) -> usize {
        self.len()
    }
}

impl TextSize for api::Tenant {
    fn text_size(&self) -> usize {
        self.id.len() + self.cidr_block.len()
    }
}

impl TextSize for api::StackContext {
    fn text_size(&self) -> usize {
        self.stack.len()
            + self.tenant.text_size()
            + self.fleet.text_size()
            + self.environment_suffix.len()
            + self.region.len()
            + self.settings.len()
            + self.inputs.text_size()
            + self.contributions.text_size()
    }
}

impl TextSize for api::NamedValue {
    fn text_size(&self) -> usize {
        self.name.len() + self.value.text_size()
    }
}

impl TextSize for api::ReceivedContribution {
    fn text_size(&self) -> usize {
        self.contributor.len() + self.contribution.text_size()
    }
}

impl TextSize for api::StackDocument {
    fn text_size(&self) -> usize {
        self.stack.len() + self.tenant.text_size() + self.document.len()
    }
}

impl TextSize for api::StackSummary {
    fn text_size(&self) -> usize {
        self.stack.len() + self.tenant.text_size() + self.blocks.text_size() + self.outputs.text_size()
    }
}

impl TextSize for api::Block {
    fn text_size(&self) -> usize {
        self.type_name.len() + self.name.len() + self.body.len()
    }
}

impl TextSize for api::Output {
    fn text_size(&self) -> usize {
        self.name.len() + self.value.len() + self.description.len()
    }
}

impl<T: TextSize, E: TextSize> TextSize for Result<T, E> {
    fn text_size(&self) -> usize {
        match self {
            Ok(value) => value.text_size(),
            Err(error) => error.text_size(),
        }
    }
}

impl<T: TextSize> TextSize for Vec<T> {
    fn text_size(&self) -> usize {
        self.as_slice().text_size()
    }
}

impl TextSize for api::PluginError {
    fn text_size(&self) -> usize {
        match self {
            Self::InvalidSettings(m)
            | Self::InvalidContext(m)
            | Self::InvalidContribution(m)
            | Self::InvalidDocument(m)
            | Self::Internal(m) => m.len(),
        }
    }
}

/// The plugin's own error in the words of the report.
fn rejection_text(error: api::PluginError) -> String {
    match error {
        api::PluginError::InvalidSettings(m) => format!("invalid settings: {m}"),
        api::PluginError::InvalidContext(m) => format!("invalid context: {m}"),
        api::PluginError::InvalidContribution(m) => format!("invalid contribution: {m}"),
        api::PluginError::InvalidDocument(m) => format!("invalid document: {m}"),
        api::PluginError::Internal(m) => format!("internal error: {m}"),
    }
}

impl TextSize for String {
    fn text_size(&self) -> usize {
        self.len()
    }
}

impl TextSize for api::Value {
    fn text_size(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::TextList(list) => list.iter().map(String::len).sum(),
        }
    }
}

impl TextSize for api::Contribution {
    fn text_size(&self) -> usize {
        self.point.len() + self.body.len()
    }
}

impl TextSize for api::SettingProblem {
    fn text_size(&self) -> usize {
        self.key.len() + self.message.len()
    }
}

impl TextSize for api::Fragment {
    fn text_size(&self) -> usize {
        let (blocks, outputs) = (self.blocks.text_size(), self.outputs.text_size());
        let provides = self.provides.text_size();
        let assets: usize = self.assets.iter().map(|a| a.path.len() + a.contents.len()).sum();
        let intents: usize = self
            .intents
            .iter()
            .map(|i| {
                let context: usize = i.context.iter().map(|(k, v)| k.len() + v.len()).sum();
                i.principal.len() + i.action.len() + i.resource.len() + i.because.len() + context
            })
            .sum();
        blocks + outputs + provides + assets + intents
    }
}

impl TextSize for api::Finding {
    fn text_size(&self) -> usize {
        self.rule_id.len() + self.address.len() + self.message.len() + self.remediation.len()
    }
}

impl TextSize for api::PluginInfo {
    fn text_size(&self) -> usize {
        let declarations = |list: &[api::ValueDeclaration]| -> usize {
            list.iter().map(|d| d.name.len() + d.description.len()).sum()
        };
        let rules: usize = self.rules.iter().map(|r| r.id.len() + r.description.len()).sum();
        let settings: usize = self
            .settings
            .iter()
            .map(|s| {
                let allowed: usize = s.allowed.iter().map(String::len).sum();
                s.name.len()
                    + s.description.len()
                    + s.default_value.as_ref().map_or(0, String::len)
                    + s.pattern.as_ref().map_or(0, String::len)
                    + allowed
            })
            .sum();
        let patterns: usize = self
            .name_patterns
            .iter()
            .map(|p| p.resource_kind.len() + p.template.len())
            .sum();
        let points: usize = self
            .accepts
            .iter()
            .map(|p| p.name.len() + p.description.len())
            .sum();
        let lists: usize = self
            .contributes_to
            .iter()
            .chain(&self.fleet_needs)
            .map(String::len)
            .sum();
        self.name.len()
            + self.version.len()
            + self.contract_version.len()
            + self.summary.len()
            + declarations(&self.provides)
            + declarations(&self.requires)
            + rules
            + settings
            + patterns
            + points
            + lists
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fleets_compile_quickly_and_large_ones_optimise() {
        assert_eq!(CodeTier::for_fleet(0), CodeTier::Quick);
        assert_eq!(CodeTier::for_fleet(CodeTier::QUICK_MAX_TENANTS), CodeTier::Quick);
        assert_eq!(
            CodeTier::for_fleet(CodeTier::QUICK_MAX_TENANTS + 1),
            CodeTier::Optimized
        );
        assert_eq!(CodeTier::for_fleet(10_000), CodeTier::Optimized);
    }

    #[test]
    fn tiers_are_named_as_on_the_command_line() {
        for tier in [CodeTier::Quick, CodeTier::Optimized] {
            assert_eq!(tier.to_string().parse::<CodeTier>(), Ok(tier));
        }
        assert!(
            "fast"
                .parse::<CodeTier>()
                .unwrap_err()
                .contains("`quick` or `optimized`")
        );
    }

    #[test]
    fn each_tier_keeps_its_own_compiled_code() {
        let key = |tier| {
            let runtime = Runtime::new(Limits::default(), tier).unwrap();
            ComponentCache::at("cache".into(), runtime.engine()).path_for("digest")
        };
        assert_ne!(key(CodeTier::Quick), key(CodeTier::Optimized));
        assert_eq!(key(CodeTier::Quick), key(CodeTier::Quick));
    }
}
