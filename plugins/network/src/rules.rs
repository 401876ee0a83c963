//! The network rules, checked over composed stacks so that they also see what other plugins
//! emit.

use std::collections::BTreeSet;
use tenant_plugin_sdk::cidr::{BlockMap, Ipv4Block};
use tenant_plugin_sdk::document::{nested_blocks, string, strings};
use tenant_plugin_sdk::prelude::*;

/// No security group ingress from 0.0.0.0/0 or ::/0.
pub const NO_PUBLIC_INGRESS: Rule = Rule::error(
    "network.no-public-ingress",
    "No security group admits ingress from 0.0.0.0/0 or ::/0.",
);
/// A tenant stack's subnets span at least two availability zones.
pub const SUBNETS_SPAN_TWO_AZS: Rule = Rule::error(
    "network.subnets-span-two-azs",
    "A tenant stack's subnets are placed in at least two distinct availability zones.",
);
/// No gateway, peering or default route that could reach the internet or another network.
pub const NO_INTERNET_PATH: Rule = Rule::error(
    "network.no-internet-path",
    "No NAT, internet or egress-only gateway, no VPC peering, and no default route (0.0.0.0/0 or ::/0).",
);
/// Tenant VPCs use exactly the tenant's allocated block.
pub const VPC_CIDR_MATCHES_ALLOCATION: Rule = Rule::error(
    "network.vpc-cidr-matches-allocation",
    "Every VPC of a tenant stack uses exactly the IPv4 block allocated to the tenant.",
);
/// Every tenant VPC's default security group is managed and has no rules.
pub const DEFAULT_SECURITY_GROUP_CLOSED: Rule = Rule::error(
    "network.default-security-group-closed",
    "Every VPC of a tenant stack manages its default security group and leaves it without rules.",
);
/// No two tenant stacks' VPCs overlap (fleet rule).
pub const NO_OVERLAPPING_CIDRS: Rule = Rule::error(
    "network.no-overlapping-cidrs",
    "No two tenant stacks' VPC blocks overlap.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    NO_PUBLIC_INGRESS,
    SUBNETS_SPAN_TWO_AZS,
    NO_INTERNET_PATH,
    VPC_CIDR_MATCHES_ALLOCATION,
    DEFAULT_SECURITY_GROUP_CLOSED,
    NO_OVERLAPPING_CIDRS,
];

type StackRule = fn(&StackDocument, &Rule) -> Vec<Finding>;

/// The per-stack rules, in the order their findings are reported.
const STACK_RULES: [(Rule, StackRule); 5] = [
    (NO_PUBLIC_INGRESS, no_public_ingress),
    (SUBNETS_SPAN_TWO_AZS, subnets_span_two_azs),
    (NO_INTERNET_PATH, no_internet_path),
    (VPC_CIDR_MATCHES_ALLOCATION, vpc_cidr_matches_allocation),
    (DEFAULT_SECURITY_GROUP_CLOSED, default_security_group_closed),
];

/// Every per-stack rule over one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    STACK_RULES
        .iter()
        .flat_map(|(rule, check)| check(stack, rule))
        .collect()
}

/// The fleet rules over the stacks' summaries (their `aws_vpc` blocks).
pub fn check_fleet(stacks: &[StackDocument]) -> Vec<Finding> {
    no_overlapping_cidrs(stacks, &NO_OVERLAPPING_CIDRS)
}

/// Whether a CIDR block (IPv4 or IPv6) has prefix length 0, i.e. is the whole address space.
fn is_everywhere(cidr: &str) -> bool {
    cidr.trim().ends_with("/0")
}

/// The sources under `keys` of a rule body that cover the whole address space.
fn open_sources<'a>(body: &'a Value, keys: &[&str]) -> Vec<&'a str> {
    keys.iter()
        .flat_map(|key| strings(body, key))
        .filter(|cidr| is_everywhere(cidr))
        .collect()
}

const SECURITY_GROUP_BLOCK_SOURCES: [&str; 2] = ["cidr_blocks", "ipv6_cidr_blocks"];

/// The resource types that admit ingress, each read below.
const INGRESS_TYPES: [&str; 4] = [
    "aws_default_security_group",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
];

fn no_public_ingress(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    let mut findings = Vec::new();
    for block in stack.resources_of_types(&INGRESS_TYPES) {
        let sources = match block.type_name {
            "aws_security_group" | "aws_default_security_group" => nested_blocks(block.body, "ingress")
                .flat_map(|ingress| open_sources(ingress, &SECURITY_GROUP_BLOCK_SOURCES))
                .collect(),
            "aws_security_group_rule" if string(block.body, "type") == Some("ingress") => {
                open_sources(block.body, &SECURITY_GROUP_BLOCK_SOURCES)
            }
            "aws_vpc_security_group_ingress_rule" => open_sources(block.body, &["cidr_ipv4", "cidr_ipv6"]),
            _ => Vec::new(),
        };
        findings.extend(sources.into_iter().map(|source| {
            rule.finding(block.address(),
                format!("admits ingress from {source}, i.e. from any address"),
                "Admit only the tenant's own block or a referenced security group; tenant functions need no ingress at all.",
            )
        }));
    }
    findings
}

fn subnets_span_two_azs(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    if stack.tenant.is_none() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let mut zones = BTreeSet::new();
    let mut subnet_count = 0;
    for subnet in stack.resources_of("aws_subnet") {
        subnet_count += 1;
        match string(subnet.body, "availability_zone").or_else(|| string(subnet.body, "availability_zone_id"))
        {
            Some(zone) => {
                zones.insert(zone);
            }
            None => findings.push(rule.finding(
                subnet.address(),
                "has no availability zone, so AWS may place it beside the other subnets",
                "Set `availability_zone` to a distinct element of data.aws_availability_zones names.",
            )),
        }
    }
    if zones.len() < 2 {
        let listed = zones.iter().copied().collect::<Vec<_>>().join(", ");
        findings.push(rule.finding("",
            format!(
                "stack `{}` has {subnet_count} subnet(s) in {} distinct availability zone(s) [{listed}]; one zone failing takes the tenant down",
                stack.stack,
                zones.len()
            ),
            "Declare private subnets in at least two availability zones.",
        ));
    }
    findings
}

/// Resource types that connect a VPC to the internet or to another network.
const INTERNET_PATH_TYPES: [(&str, &str); 6] = [
    ("aws_nat_gateway", "a NAT gateway"),
    ("aws_internet_gateway", "an internet gateway"),
    (
        "aws_internet_gateway_attachment",
        "an internet gateway attachment",
    ),
    (
        "aws_egress_only_internet_gateway",
        "an egress-only internet gateway",
    ),
    ("aws_vpc_peering_connection", "a VPC peering connection"),
    ("aws_vpc_peering_connection_accepter", "a VPC peering accepter"),
];

/// The resource types that hold routes, each read below.
const ROUTE_TYPES: [&str; 3] = ["aws_default_route_table", "aws_route", "aws_route_table"];

fn no_internet_path(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    let mut findings = Vec::new();
    let read = |kind, type_name: &str| {
        kind == tenant_plugin_sdk::BlockKind::Resource
            && (ROUTE_TYPES.contains(&type_name)
                || INTERNET_PATH_TYPES.iter().any(|(path, _)| *path == type_name))
    };
    for block in stack.blocks_where(read) {
        if let Some((_, what)) = INTERNET_PATH_TYPES
            .iter()
            .find(|(type_name, _)| *type_name == block.type_name)
        {
            findings.push(rule.finding(
                block.address(),
                format!("is {what}: tenant networks must have no path to the internet or to other networks"),
                "Remove it; reach AWS services through VPC endpoints instead.",
            ));
        }
        let default_routes = match block.type_name {
            "aws_route" => open_sources(
                block.body,
                &["destination_cidr_block", "destination_ipv6_cidr_block"],
            ),
            "aws_route_table" | "aws_default_route_table" => nested_blocks(block.body, "route")
                .flat_map(|route| open_sources(route, &["cidr_block", "ipv6_cidr_block"]))
                .collect(),
            _ => Vec::new(),
        };
        findings.extend(default_routes.into_iter().map(|destination| {
            rule.finding(block.address(),
                format!("routes {destination} out of the VPC"),
                "Remove the default route; private subnets keep only the local route and endpoint prefix lists.",
            )
        }));
    }
    findings
}

fn vpc_cidr_matches_allocation(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    let Some(tenant) = &stack.tenant else {
        return Vec::new();
    };
    let allocated = tenant.cidr_block.parse::<Ipv4Block>().ok();
    stack
        .resources_of("aws_vpc")
        .filter_map(|vpc| {
            let declared = string(vpc.body, "cidr_block");
            let matches =
                allocated.is_some() && declared.and_then(|d| d.parse::<Ipv4Block>().ok()) == allocated;
            (!matches).then(|| {
                rule.finding(
                    vpc.address(),
                    format!(
                        "cidr_block is {}, but tenant `{}` is allocated {}",
                        declared.map_or_else(|| "not set".to_owned(), |d| format!("`{d}`")),
                        tenant.id,
                        tenant.cidr_block
                    ),
                    format!(
                        "Set cidr_block to the literal allocated block {}.",
                        tenant.cidr_block
                    ),
                )
            })
        })
        .collect()
}

/// Stand-alone security group rule types, all attached through `security_group_id`.
const STANDALONE_SECURITY_GROUP_RULES: [&str; 3] = [
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

fn default_security_group_closed(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    if stack.tenant.is_none() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let default_groups: Vec<_> = stack.resources_of("aws_default_security_group").collect();
    for vpc in stack.resources_of("aws_vpc") {
        let vpc_id = format!("${{{}.id}}", vpc.address());
        if !default_groups
            .iter()
            .any(|group| string(group.body, "vpc_id") == Some(vpc_id.as_str()))
        {
            findings.push(rule.finding(vpc.address(),
                "has no aws_default_security_group, so its default group keeps AWS's allow-within-group rules",
                format!("Declare an aws_default_security_group with vpc_id = \"{vpc_id}\" and no ingress or egress."),
            ));
        }
    }
    for group in &default_groups {
        let inline =
            nested_blocks(group.body, "ingress").count() + nested_blocks(group.body, "egress").count();
        if inline > 0 {
            findings.push(rule.finding(
                group.address(),
                format!("has {inline} inline rule(s); the default group must stay closed"),
                "Remove the ingress and egress blocks; use a dedicated security group instead.",
            ));
        }
        let group_id = format!("${{{}.id}}", group.address());
        for type_name in STANDALONE_SECURITY_GROUP_RULES {
            for attached in stack.resources_of(type_name) {
                if string(attached.body, "security_group_id") == Some(group_id.as_str()) {
                    findings.push(rule.finding(
                        attached.address(),
                        format!("adds a rule to the default security group {}", group.address()),
                        "Attach the rule to a dedicated security group instead.",
                    ));
                }
            }
        }
    }
    findings
}

/// A tenant VPC found in a composed stack.
struct TenantVpc<'a> {
    stack: &'a str,
    address: String,
    block: Ipv4Block,
}

fn no_overlapping_cidrs(stacks: &[StackDocument], rule: &Rule) -> Vec<Finding> {
    // VPCs without a literal block are reported by vpc-cidr-matches-allocation.
    let vpcs: Vec<TenantVpc<'_>> = stacks
        .iter()
        .filter(|stack| stack.tenant.is_some())
        .flat_map(|stack| {
            stack.resources_of("aws_vpc").filter_map(|vpc| {
                let block = string(vpc.body, "cidr_block")?.parse().ok()?;
                Some(TenantVpc {
                    stack: &stack.stack,
                    address: vpc.address(),
                    block,
                })
            })
        })
        .collect();
    overlapping_pairs(vpcs.iter().map(|vpc| vpc.block))
        .into_iter()
        .map(|(first, second)| (&vpcs[first], &vpcs[second]))
        .filter(|(first, second)| first.stack != second.stack)
        .map(|(first, second)| {
            rule.finding(
                "",
                format!(
                    "{} {} in stack `{}` overlaps {} {} in stack `{}`",
                    first.address, first.block, first.stack, second.address, second.block, second.stack
                ),
                "Give each tenant its own block from the tenant pool (the host allocates consecutive /16s).",
            )
        })
        .collect()
}

/// Every pair of positions `(i, j)`, `i < j`, whose blocks overlap, in that order: each block is
/// looked up among those before it in a [`BlockMap`], where comparing every pair took 50 million
/// comparisons (1.3 s) for 10,000 tenants.
fn overlapping_pairs(blocks: impl Iterator<Item = Ipv4Block>) -> Vec<(usize, usize)> {
    let mut seen = BlockMap::default();
    let mut pairs = Vec::new();
    for (at, block) in blocks.enumerate() {
        pairs.extend(seen.overlapping(&block).map(|(_, &earlier)| (earlier, at)));
        seen.insert(block, at);
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(tenant: Allocation, document: Value) -> StackDocument {
        let name = tenant.map_or_else(|| "central-dev".to_owned(), |(id, _)| format!("tenant-{id}-dev"));
        let tenant = tenant.map(|(id, cidr)| Tenant {
            id: id.into(),
            cidr_block: cidr.into(),
        });
        tenant_plugin_sdk::testing::received(&name, tenant, &document)
    }

    /// A tenant stack's `(tenant id, allocated block)`, or `None` for the central stack.
    type Allocation = Option<(&'static str, &'static str)>;

    const ACME: Allocation = Some(("acme-corp", "10.0.0.0/16"));

    /// The addresses of `rule`'s findings in one stack.
    fn addresses(rule: Rule, stack: &StackDocument) -> Vec<String> {
        check_stack(stack)
            .into_iter()
            .filter(|f| f.rule_id == rule.id)
            .map(|f| f.address)
            .collect()
    }

    #[test]
    fn stack_rules_flag_violations_and_pass_compliant_documents() {
        // (rule, why, tenant, resources, addresses the rule must report)
        let cases: Vec<(Rule, &str, Allocation, Value, Vec<&str>)> = vec![
            (
                NO_PUBLIC_INGRESS,
                "inline ingress from anywhere",
                None,
                json!({"aws_security_group": {"web": {"ingress": [{"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/16", "0.0.0.0/0"]}]}}}),
                vec!["aws_security_group.web"],
            ),
            (
                NO_PUBLIC_INGRESS,
                "the VPC's default security group opened to anywhere",
                ACME,
                json!({"aws_default_security_group": {"tenant": {"ingress": {"cidr_blocks": ["0.0.0.0/0"]}}}}),
                vec!["aws_default_security_group.tenant"],
            ),
            (
                NO_PUBLIC_INGRESS,
                "legacy rule from all of IPv6",
                ACME,
                json!({"aws_security_group_rule": {"open": {"type": "ingress", "ipv6_cidr_blocks": ["::/0"], "security_group_id": "sg"}}}),
                vec!["aws_security_group_rule.open"],
            ),
            (
                NO_PUBLIC_INGRESS,
                "stand-alone ingress rule from anywhere",
                ACME,
                json!({"aws_vpc_security_group_ingress_rule": {"open": {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "-1"}}}),
                vec!["aws_vpc_security_group_ingress_rule.open"],
            ),
            (
                NO_PUBLIC_INGRESS,
                "own-block ingress, open egress and a referenced group are not public ingress",
                ACME,
                json!({
                    "aws_security_group": {"app": {"ingress": {"cidr_blocks": ["10.0.0.0/16"]}, "egress": [{"cidr_blocks": ["0.0.0.0/0"]}]}},
                    "aws_security_group_rule": {"out": {"type": "egress", "cidr_blocks": ["0.0.0.0/0"]}},
                    "aws_vpc_security_group_ingress_rule": {"peer": {"referenced_security_group_id": "${aws_security_group.app.id}"}}
                }),
                vec![],
            ),
            (
                SUBNETS_SPAN_TWO_AZS,
                "both subnets in the same zone",
                ACME,
                json!({"aws_subnet": {"a": {"availability_zone": "us-east-1a"}, "b": {"availability_zone": "us-east-1a"}}}),
                vec![""],
            ),
            (
                SUBNETS_SPAN_TWO_AZS,
                "a subnet without zone",
                ACME,
                json!({"aws_subnet": {"a": {"availability_zone": "${data.aws_availability_zones.network.names[0]}"}, "b": {}}}),
                vec!["aws_subnet.b", ""],
            ),
            (
                SUBNETS_SPAN_TWO_AZS,
                "a tenant stack without subnets",
                ACME,
                json!({}),
                vec![""],
            ),
            (
                SUBNETS_SPAN_TWO_AZS,
                "two zone expressions (names or zone ids)",
                ACME,
                json!({"aws_subnet": {"a": {"availability_zone": "${data.aws_availability_zones.network.names[0]}"}, "b": {"availability_zone_id": "use1-az2"}}}),
                vec![],
            ),
            (
                SUBNETS_SPAN_TWO_AZS,
                "the central stack needs no subnets",
                None,
                json!({}),
                vec![],
            ),
            (
                NO_INTERNET_PATH,
                "gateways and peering, also in the central stack",
                None,
                json!({
                    "aws_internet_gateway": {"igw": {}}, "aws_nat_gateway": {"nat": {}},
                    "aws_egress_only_internet_gateway": {"eigw": {}}, "aws_vpc_peering_connection": {"peer": {}},
                    "aws_vpc_peering_connection_accepter": {"accept": {}}
                }),
                vec![
                    "aws_egress_only_internet_gateway.eigw",
                    "aws_internet_gateway.igw",
                    "aws_nat_gateway.nat",
                    "aws_vpc_peering_connection.peer",
                    "aws_vpc_peering_connection_accepter.accept",
                ],
            ),
            (
                NO_INTERNET_PATH,
                "default routes, stand-alone and inline",
                ACME,
                json!({
                    "aws_route": {"default": {"destination_cidr_block": "0.0.0.0/0", "route_table_id": "rt"}},
                    "aws_route_table": {"private": {"route": [{"ipv6_cidr_block": "::/0"}]}},
                    "aws_default_route_table": {"main": {"route": {"cidr_block": "0.0.0.0/0"}}}
                }),
                vec![
                    "aws_default_route_table.main",
                    "aws_route.default",
                    "aws_route_table.private",
                ],
            ),
            (
                NO_INTERNET_PATH,
                "a route table with only specific routes",
                ACME,
                json!({
                    "aws_route": {"onprem": {"destination_cidr_block": "10.0.5.0/24"}},
                    "aws_route_table": {"private": {"route": [{"cidr_block": "10.0.6.0/24"}]}},
                    "aws_vpc_endpoint": {"s3": {"vpc_endpoint_type": "Gateway"}}
                }),
                vec![],
            ),
            (
                VPC_CIDR_MATCHES_ALLOCATION,
                "another tenant's block, a missing block and an expression",
                ACME,
                json!({"aws_vpc": {
                    "other": {"cidr_block": "10.1.0.0/16"}, "unset": {}, "computed": {"cidr_block": "${var.cidr}"}
                }}),
                vec!["aws_vpc.computed", "aws_vpc.other", "aws_vpc.unset"],
            ),
            (
                VPC_CIDR_MATCHES_ALLOCATION,
                "exactly the allocated block",
                ACME,
                json!({"aws_vpc": {"tenant": {"cidr_block": "10.0.0.0/16"}}}),
                vec![],
            ),
            (
                DEFAULT_SECURITY_GROUP_CLOSED,
                "a VPC without its default group",
                ACME,
                json!({"aws_vpc": {"tenant": {"cidr_block": "10.0.0.0/16"}},
                       "aws_default_security_group": {"other": {"vpc_id": "${aws_vpc.other.id}"}}}),
                vec!["aws_vpc.tenant"],
            ),
            (
                DEFAULT_SECURITY_GROUP_CLOSED,
                "rules inline and attached to the default group",
                ACME,
                json!({
                    "aws_vpc": {"tenant": {"cidr_block": "10.0.0.0/16"}},
                    "aws_default_security_group": {"tenant": {"vpc_id": "${aws_vpc.tenant.id}", "egress": [{"cidr_blocks": ["10.0.0.0/16"]}]}},
                    "aws_vpc_security_group_ingress_rule": {"sneaky": {"security_group_id": "${aws_default_security_group.tenant.id}"}}
                }),
                vec![
                    "aws_default_security_group.tenant",
                    "aws_vpc_security_group_ingress_rule.sneaky",
                ],
            ),
            (
                DEFAULT_SECURITY_GROUP_CLOSED,
                "a closed default group",
                ACME,
                json!({"aws_vpc": {"tenant": {"cidr_block": "10.0.0.0/16"}},
                       "aws_default_security_group": {"tenant": {"vpc_id": "${aws_vpc.tenant.id}"}}}),
                vec![],
            ),
        ];
        for (rule_id, why, tenant, resources, expected) in cases {
            let document = stack(tenant, json!({"resource": resources}));
            assert_eq!(addresses(rule_id, &document), expected, "{rule_id}: {why}");
        }
    }

    #[test]
    fn findings_carry_the_declared_severity() {
        let document = stack(ACME, json!({"resource": {"aws_nat_gateway": {"nat": {}}}}));
        let findings = check_stack(&document);
        assert!(findings.iter().all(|f| f.severity == Severity::Error));
        assert!(findings.iter().any(|f| f.message.contains("NAT gateway")));
    }

    #[test]
    fn the_sweep_finds_exactly_the_pairs_that_overlap() {
        let blocks = tenant_plugin_sdk::testing::scattered_blocks(400);
        let every_pair: Vec<(usize, usize)> = (0..blocks.len())
            .flat_map(|i| (i + 1..blocks.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| blocks[i].overlaps(&blocks[j]))
            .collect();
        assert!(
            every_pair.len() > 400,
            "the case nests enough: {}",
            every_pair.len()
        );
        assert_eq!(overlapping_pairs(blocks.into_iter()), every_pair);
    }

    #[test]
    fn fleet_rule_names_both_overlapping_stacks() {
        let vpc = |cidr: &str| json!({"resource": {"aws_vpc": {"tenant": {"cidr_block": cidr}}}});
        // (why, stacks as (tenant, VPC block), number of findings)
        let cases = [
            (
                "consecutive /16s",
                vec![
                    ("acme-corp", "10.0.0.0/16"),
                    ("tech-startup", "10.1.0.0/16"),
                    ("retail-co", "10.2.0.0/16"),
                ],
                0,
            ),
            (
                "a /15 swallowing a neighbour",
                vec![
                    ("acme-corp", "10.0.0.0/15"),
                    ("tech-startup", "10.1.0.0/16"),
                    ("retail-co", "10.2.0.0/16"),
                ],
                1,
            ),
            (
                "the same block twice",
                vec![("acme-corp", "10.0.0.0/16"), ("tech-startup", "10.0.0.0/16")],
                1,
            ),
        ];
        for (why, tenants, expected) in cases {
            let stacks: Vec<_> = tenants
                .iter()
                .map(|(id, cidr)| stack(Some((id, cidr)), vpc(cidr)))
                .collect();
            let findings = check_fleet(&stacks);
            assert_eq!(findings.len(), expected, "{why}: {findings:?}");
            if let Some(finding) = findings.first() {
                assert!(
                    finding.message.contains("tenant-acme-corp-dev")
                        && finding.message.contains("tenant-tech-startup-dev"),
                    "{why}"
                );
            }
        }
        let central = stack(None, vpc("10.0.0.0/16"));
        assert!(
            check_fleet(&[stack(ACME, vpc("10.0.0.0/16")), central]).is_empty(),
            "the central stack is no tenant"
        );
    }
}
