//! Address blocks and the lock file: recorded blocks never change, explicit blocks are checked
//! against the pool and each other, new tenants get the lowest free block, and removed tenants
//! keep theirs until released.

use super::{Checker, PlanOptions};
use crate::diagnostics::Diagnostic;
use crate::lock::{Lock, first_overlap};
use crate::path;
use tenant_plugin_sdk::cidr::Ipv4Block;

/// The longest tenant prefix length: AWS VPCs are /16 to /28.
const MAX_PREFIX_LENGTH: u8 = 28;
/// The shortest: AWS VPCs are /16 to /28.
const MIN_PREFIX_LENGTH: u8 = 16;

impl Checker<'_> {
    /// The lock without the released tenants; checks that each may be released.
    pub(super) fn release(&mut self, lock: &Lock, options: &PlanOptions) -> Lock {
        let mut released = lock.clone();
        for id in &options.release {
            if let Some(index) = self.file.config.tenants.iter().position(|t| &t.id == id) {
                let problem =
                    Diagnostic::error(format!("--release `{id}`: tenant `{id}` is still configured"))
                        .at(self.value(&path!["tenants", index, "id"]), "still configured")
                        .help("remove the tenant from the configuration and destroy its stack first");
                self.problems.push(problem);
            } else if released.blocks.remove(id).is_none() {
                let problem = Diagnostic::error(format!(
                    "--release `{id}`: {} has no block for tenant `{id}`",
                    self.lock_name()
                ))
                .help("name a removed tenant that is still recorded in the lock file");
                self.problems.push(problem);
            } else if options.locked {
                let problem = Diagnostic::error(format!(
                    "--release `{id}` changes {}, which --locked forbids",
                    self.lock_name()
                ))
                .help("release blocks in a run without --locked and commit the lock file");
                self.problems.push(problem);
            }
        }
        released
    }

    /// Keeps every recorded block, checks explicit blocks, and gives every other new tenant the
    /// lowest free block; `None` when the pool itself is unusable.
    pub(super) fn allocate(&mut self, lock: &Lock, lock_exists: bool, locked: bool) -> Option<Lock> {
        let config = &self.file.config;
        let pool_span = self.value(&path!["addressing", "pool"]);
        let pool: Ipv4Block = match config.addressing.pool.parse() {
            Ok(pool) => pool,
            Err(e) => {
                let problem = Diagnostic::error(format!(
                    "address pool `{}` is not a CIDR block: {e}",
                    config.addressing.pool
                ))
                .at(pool_span, "not a block")
                .help("write the pool as an address and a prefix length, e.g. `10.0.0.0/8`");
                self.problems.push(problem);
                return None;
            }
        };
        let prefix = config.addressing.prefix_length;
        if prefix < pool.prefix().max(MIN_PREFIX_LENGTH) || prefix > MAX_PREFIX_LENGTH {
            let problem = Diagnostic::error(format!(
                "prefix length /{prefix} must be between /{} and /{MAX_PREFIX_LENGTH}",
                pool.prefix().max(MIN_PREFIX_LENGTH)
            ))
            .at(self.value(&path!["addressing", "prefix-length"]), "out of range")
            .note(format!(
                "the pool is {pool}, and AWS VPCs are /{MIN_PREFIX_LENGTH} to /{MAX_PREFIX_LENGTH}"
            ))
            .help("choose a prefix length inside that range");
            self.problems.push(problem);
            return None;
        }
        let lock_name = self.lock_name();
        let mut working = lock.clone();
        let mut taken = lock.taken();
        let mut new_tenants = Vec::new();
        for (index, tenant) in config.tenants.iter().enumerate() {
            let span = self.value(&path!["tenants", index, "cidr-block"]);
            let explicit = match tenant.cidr_block.as_deref().map(str::parse::<Ipv4Block>) {
                None => None,
                Some(Ok(block)) => Some(block),
                Some(Err(e)) => {
                    let problem = Diagnostic::error(format!("cidr-block of tenant `{}` is not a CIDR block: {e}", tenant.id))
                        .at(span, "not a block")
                        .help("write an address and a prefix length with no host bits, e.g. `10.3.0.0/16`, or remove cidr-block to get the next free block");
                    self.problems.push(problem);
                    continue;
                }
            };
            if let Some(recorded) = lock.blocks.get(&tenant.id) {
                if let Some(block) = explicit.filter(|b| b != recorded) {
                    let problem = Diagnostic::error(format!(
                        "cidr-block {block} of tenant `{}` differs from its block {recorded} in {lock_name}",
                        tenant.id
                    ))
                    .at(span, "would renumber a live VPC")
                    .help(format!(
                        "set cidr-block to {recorded} or remove it; to move the tenant, destroy its stack, remove it, release it with --release, and add it again"
                    ));
                    self.problems.push(problem);
                }
                continue;
            }
            let Some(block) = explicit else {
                new_tenants.push(index);
                continue;
            };
            if !(MIN_PREFIX_LENGTH..=MAX_PREFIX_LENGTH).contains(&block.prefix()) {
                let problem = Diagnostic::error(format!(
                    "cidr-block {block} of tenant `{}` has the prefix length /{}, which must be between /{MIN_PREFIX_LENGTH} and /{MAX_PREFIX_LENGTH}",
                    tenant.id,
                    block.prefix()
                ))
                .at(span, "prefix length out of range")
                .note(format!("AWS VPCs are /{MIN_PREFIX_LENGTH} to /{MAX_PREFIX_LENGTH}"))
                .help("choose a block with a prefix length inside that range, or remove cidr-block to get the next free block");
                self.problems.push(problem);
                continue;
            }
            if !pool.contains(&block) {
                let problem = Diagnostic::error(format!(
                    "cidr-block {block} of tenant `{}` is outside the pool {pool}",
                    tenant.id
                ))
                .at(span, "outside the pool")
                .also(pool_span.clone(), "the pool")
                .help(format!(
                    "choose a block inside {pool}, or remove cidr-block to get the next free block"
                ));
                self.problems.push(problem);
                continue;
            }
            match first_overlap(&taken, &block) {
                Some((owner, other)) => {
                    let owner_index = config.tenants.iter().position(|t| &t.id == owner);
                    let mut problem = Diagnostic::error(format!(
                        "cidr-block {block} of tenant `{}` overlaps {other}, the block of tenant `{owner}`",
                        tenant.id
                    ))
                    .at(span, "overlaps");
                    problem = match owner_index {
                        Some(i) if config.tenants[i].cidr_block.is_some() => {
                            problem.also(self.value(&path!["tenants", i, "cidr-block"]), "the other block")
                        }
                        Some(_) => problem.note(format!("`{owner}` has {other} recorded in {lock_name}")),
                        None => problem.note(format!(
                            "`{owner}` was removed from the configuration; its block stays reserved in {lock_name} until `--release {owner}`"
                        )),
                    };
                    self.problems.push(
                        problem.help("choose a free block, or remove cidr-block to get the next free one"),
                    );
                }
                None => {
                    taken.insert(block, tenant.id.clone());
                    working.blocks.insert(tenant.id.clone(), block);
                }
            }
        }
        let ids: Vec<&str> = new_tenants
            .iter()
            .map(|i| config.tenants[*i].id.as_str())
            .collect();
        let allocated = match allocate(pool, prefix, &working, &ids) {
            Ok(allocated) => allocated,
            Err(unplaced) => {
                let index = new_tenants[unplaced[0]];
                let capacity = 1u64 << (prefix - pool.prefix());
                let mut problem = Diagnostic::error(format!(
                    "no free /{prefix} block is left in the pool {pool} for tenant `{}`",
                    config.tenants[index].id
                ))
                .at(self.value(&path!["tenants", index, "id"]), "no block left")
                .note(format!("the pool holds {capacity} blocks of /{prefix}"));
                if unplaced.len() > 1 {
                    problem = problem.note(format!("{} tenants in all get no block", unplaced.len()));
                }
                self.problems.push(problem.help(
                    "use a larger pool, a longer prefix-length for new tenants, or release removed tenants' blocks with --release",
                ));
                return None;
            }
        };
        if locked {
            for (index, tenant) in config.tenants.iter().enumerate() {
                if lock.blocks.contains_key(&tenant.id) {
                    continue;
                }
                let mut problem = Diagnostic::error(format!(
                    "tenant `{}` has no block in {lock_name}, and --locked forbids allocating one",
                    tenant.id
                ))
                .at(self.value(&path!["tenants", index, "id"]), "not in the lock file");
                if !lock_exists {
                    problem = problem.note("there is no lock file yet");
                }
                self.problems.push(problem.help(format!(
                    "run `tenant-host synth` without --locked and commit {lock_name}"
                )));
            }
        }
        Some(allocated)
    }
}

/// Gives each of `new_tenants`, in order, the lowest block of `pool` with `prefix` that overlaps
/// no block of `lock`; the lock's blocks never change. Returns the positions in `new_tenants`
/// left without a block when the pool is exhausted.
pub fn allocate(pool: Ipv4Block, prefix: u8, lock: &Lock, new_tenants: &[&str]) -> Result<Lock, Vec<usize>> {
    let mut lock = lock.clone();
    let mut taken = lock.taken();
    let capacity = 1u64 << (prefix - pool.prefix());
    let mut next = 0u64;
    let mut unplaced = Vec::new();
    for (position, id) in new_tenants.iter().enumerate() {
        let free = (next..capacity).find_map(|netnum| {
            let candidate = pool
                .subnet(prefix - pool.prefix(), netnum as u32)
                .expect("netnum is below capacity");
            let free = taken.overlapping(&candidate).next().is_none();
            free.then_some((netnum, candidate))
        });
        match free {
            Some((netnum, block)) => {
                next = netnum + 1;
                taken.insert(block, (*id).to_owned());
                lock.blocks.insert((*id).to_owned(), block);
            }
            None => {
                next = capacity;
                unplaced.push(position);
            }
        }
    }
    if unplaced.is_empty() {
        Ok(lock)
    } else {
        Err(unplaced)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{file, plan};
    use super::super::{NoCrossChecks, Plan, plan_fleet};
    use super::*;
    use proptest::prelude::*;

    fn blocks(plan: &Plan) -> Vec<String> {
        plan.fleet
            .tenants
            .iter()
            .map(|t| t.cidr_block.to_string())
            .collect()
    }

    #[test]
    fn explicit_blocks_are_skipped_by_allocation() {
        let config = file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\ncidr-block = \"10.0.0.0/16\"\n");
        let plan = plan(&config, None).unwrap();
        assert_eq!(blocks(&plan), ["10.1.0.0/16", "10.0.0.0/16"]);
        assert!(plan.lock_changed);
    }

    #[test]
    fn recorded_blocks_survive_removal_and_reordering() {
        let first = plan(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n[[tenants]]\nid = \"c\"\n"),
            None,
        )
        .unwrap();
        let second = plan(
            &file("[[tenants]]\nid = \"d\"\n[[tenants]]\nid = \"c\"\n[[tenants]]\nid = \"a\"\n"),
            Some(&first.lock),
        )
        .unwrap();
        assert_eq!(blocks(&second), ["10.3.0.0/16", "10.2.0.0/16", "10.0.0.0/16"]);
        assert_eq!(second.retired, [("b".to_owned(), "10.1.0.0/16".parse().unwrap())]);
        let unchanged = plan(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"c\"\n[[tenants]]\nid = \"d\"\n"),
            Some(&second.lock),
        )
        .unwrap();
        assert!(!unchanged.lock_changed);
    }

    #[test]
    fn a_released_block_goes_to_the_next_new_tenant() {
        let first = plan(&file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n"), None).unwrap();
        let options = PlanOptions {
            release: vec!["a".into()],
            ..PlanOptions::default()
        };
        let second = plan_fleet(
            &file("[[tenants]]\nid = \"b\"\n[[tenants]]\nid = \"n\"\n"),
            Some("dev"),
            Some(&first.lock),
            &[],
            &NoCrossChecks,
            &options,
        )
        .unwrap();
        assert_eq!(blocks(&second), ["10.1.0.0/16", "10.0.0.0/16"]);
    }

    #[test]
    fn locked_refuses_to_allocate() {
        let first = plan(&file("[[tenants]]\nid = \"a\"\n"), None).unwrap();
        let options = PlanOptions {
            locked: true,
            ..PlanOptions::default()
        };
        let error = plan_fleet(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n"),
            Some("dev"),
            Some(&first.lock),
            &[],
            &NoCrossChecks,
            &options,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("tenant `b` has no block in tenants.lock, and --locked forbids"),
            "{error}"
        );
        assert!(
            plan_fleet(
                &file("[[tenants]]\nid = \"a\"\n"),
                Some("dev"),
                Some(&first.lock),
                &[],
                &NoCrossChecks,
                &options
            )
            .is_ok()
        );
    }

    /// One edit of the tenant list.
    #[derive(Debug, Clone)]
    enum Edit {
        /// Adds new tenants at the end.
        Add(u8),
        /// Removes the tenant at this position (modulo the length).
        Remove(usize),
        /// Rotates the list.
        Rotate(usize),
        /// Reverses the list.
        Reverse,
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (1u8..4).prop_map(Edit::Add),
            any::<usize>().prop_map(Edit::Remove),
            any::<usize>().prop_map(Edit::Rotate),
            Just(Edit::Reverse),
        ]
    }

    /// Applies `edits` to a tenant list, allocating after each from the previous lock; checks
    /// stability and disjointness on the way and returns the final lock.
    fn run_edits(edits: &[Edit], reverse_new: bool) -> Lock {
        let pool: Ipv4Block = "10.0.0.0/8".parse().unwrap();
        let mut tenants: Vec<String> = Vec::new();
        let mut lock = Lock::default();
        let mut counter = 0;
        for edit in edits {
            let mut added = Vec::new();
            match edit {
                Edit::Add(n) => {
                    for _ in 0..*n {
                        added.push(format!("t{counter}"));
                        counter += 1;
                    }
                    if reverse_new {
                        added.reverse();
                    }
                    tenants.extend(added.iter().cloned());
                }
                Edit::Remove(i) if !tenants.is_empty() => {
                    let i = i % tenants.len();
                    tenants.remove(i);
                }
                Edit::Remove(_) => {}
                Edit::Rotate(i) if !tenants.is_empty() => {
                    let i = i % tenants.len();
                    tenants.rotate_left(i);
                }
                Edit::Rotate(_) => {}
                Edit::Reverse => tenants.reverse(),
            }
            let new: Vec<&str> = tenants
                .iter()
                .filter(|t| !lock.blocks.contains_key(*t))
                .map(String::as_str)
                .collect();
            let next = allocate(pool, 16, &lock, &new).expect("the pool is large enough");
            for (id, block) in &lock.blocks {
                assert_eq!(next.blocks.get(id), Some(block), "the block of `{id}` changed");
            }
            let all: Vec<&Ipv4Block> = next.blocks.values().collect();
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    assert!(!a.overlaps(b), "{a} overlaps {b}");
                }
            }
            assert!(tenants.iter().all(|t| next.blocks.contains_key(t)));
            lock = next;
        }
        lock
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Adds, removals and reorders never change an existing block and never overlap; the
        /// blocks in use do not depend on the order in which tenants are listed.
        #[test]
        fn allocation_is_stable_and_order_independent(edits in prop::collection::vec(edit(), 1..30)) {
            let forward = run_edits(&edits, false);
            let backward = run_edits(&edits, true);
            let used = |lock: &Lock| lock.blocks.values().copied().collect::<std::collections::BTreeSet<_>>();
            prop_assert_eq!(used(&forward), used(&backward));
            prop_assert_eq!(forward.blocks.keys().collect::<Vec<_>>(), backward.blocks.keys().collect::<Vec<_>>());
        }
    }
}
