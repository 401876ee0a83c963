//! The tenant stack's network: VPC, private subnets, route table, gateway endpoints, security
//! groups and network ACL.

use crate::settings::{AWS_PREFIX_RANGE, NetworkSettings};
use tenant_plugin_sdk::bundled::{
    DYNAMODB_ENDPOINT_ID, LAMBDA_SECURITY_GROUP_ID, PRIVATE_ROUTE_TABLE_ID, PRIVATE_SUBNET_IDS,
    S3_ENDPOINT_ID, VPC_CIDR_BLOCK, VPC_ID,
};
use tenant_plugin_sdk::cidr::Ipv4Block;
use tenant_plugin_sdk::prelude::*;

/// The Lambda functions' security group, the only resource of the plugin with a name attribute.
pub const LAMBDA_SECURITY_GROUP_NAME: NamePattern =
    NamePattern::tenant("aws_security_group.name", "tenant-{id}-lambda-sg-{suffix}", 255);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[LAMBDA_SECURITY_GROUP_NAME];

/// The private subnets: (letter in their names, index into both the zone names and the
/// `cidrsubnet` blocks).
const PRIVATE_SUBNETS: [(&str, u32); 2] = [("a", 0), ("b", 1)];

/// The gateway endpoints: (service, which is also the local name and name stem; display name).
const GATEWAY_ENDPOINTS: [(&str, &str); 2] = [("s3", "S3"), ("dynamodb", "DynamoDB")];

const HTTPS: u16 = 443;

/// The tenant's part of its own stack.
pub fn tenant_fragment(context: &StackContext<NetworkSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let settings = &context.settings;
    let vpc_block = vpc_block(&tenant.cidr_block)?;
    let names = Names {
        tenant_id: &tenant.id,
        suffix: &context.environment_suffix,
    };
    let mut fragment = Fragment::default();

    // Pinning the zone names keeps `names[i]` stable when AWS opens a new zone (checkov
    // CKV_AWS_394); `state` makes the plan fail early if a pinned zone is unavailable.
    let zone_names = settings
        .zone_letters
        .map(|letter| format!("{}{letter}", context.region));
    let zones = fragment.data(
        "aws_availability_zones",
        "network",
        json!({"state": "available", "filter": [{"name": "zone-name", "values": zone_names}]}),
    );
    let vpc_name = names.name("vpc");
    let vpc = fragment.resource(
        "aws_vpc",
        "tenant",
        json!({
            "cidr_block": vpc_block.to_string(),
            "enable_dns_support": true,
            "enable_dns_hostnames": true,
            "tags": names.tags(&vpc_name),
        }),
    );

    let route_table_name = names.name("private-rt");
    // No routes besides the implicit local one: the endpoints add their prefix-list routes.
    let route_table = fragment.resource(
        "aws_route_table",
        "private",
        json!({"vpc_id": vpc.attr("id"), "tags": names.tags(&route_table_name)}),
    );

    let subnet_ids = private_subnets(
        &mut fragment,
        &names,
        &zones,
        &vpc,
        &route_table,
        vpc_block,
        settings.subnet_newbits,
    )?;

    let endpoints = GATEWAY_ENDPOINTS.map(|(service, _)| {
        let endpoint_name = names.name(&format!("{service}-endpoint"));
        // No `policy`: the storage plugin attaches a scoped one with aws_vpc_endpoint_policy.
        fragment.resource(
            "aws_vpc_endpoint",
            service,
            json!({
                "vpc_id": vpc.attr("id"),
                "service_name": format!("com.amazonaws.{}.{service}", context.region),
                "vpc_endpoint_type": "Gateway",
                "route_table_ids": [route_table.attr("id")],
                "tags": names.tags(&endpoint_name),
            }),
        )
    });

    let security_group = lambda_security_group(&mut fragment, &names, vpc_block, &vpc, &endpoints);

    // Without ingress or egress blocks Terraform removes every rule of the default group.
    let default_group_name = names.name("default-sg");
    fragment.resource(
        "aws_default_security_group",
        "tenant",
        json!({"vpc_id": vpc.attr("id"), "tags": names.tags(&default_group_name)}),
    );

    let acl_name = names.name("private-nacl");
    let (ingress, egress) = network_acl_entries(vpc_block, settings.tenant_pool);
    fragment.resource(
        "aws_network_acl",
        "private",
        json!({
            "vpc_id": vpc.attr("id"),
            "subnet_ids": subnet_ids,
            "ingress": ingress,
            "egress": egress,
            "tags": names.tags(&acl_name),
        }),
    );

    fragment.output("vpc_id", json!(vpc.attr("id")), "The tenant VPC's id.");
    fragment.provide(&VPC_ID, vpc.attr("id"));
    fragment.provide(&VPC_CIDR_BLOCK, vpc.attr("cidr_block"));
    fragment.provide(&PRIVATE_SUBNET_IDS, subnet_ids);
    fragment.provide(&LAMBDA_SECURITY_GROUP_ID, security_group.attr("id"));
    fragment.provide(&PRIVATE_ROUTE_TABLE_ID, route_table.attr("id"));
    let [s3, dynamodb] = &endpoints;
    fragment.provide(&S3_ENDPOINT_ID, s3.attr("id"));
    fragment.provide(&DYNAMODB_ENDPOINT_ID, dynamodb.attr("id"));
    Ok(fragment)
}

/// The private subnets, one per pinned zone, on the private route table; returns their ids.
fn private_subnets(
    fragment: &mut Fragment,
    names: &Names<'_>,
    zones: &Reference,
    vpc: &Reference,
    route_table: &Reference,
    vpc_block: Ipv4Block,
    newbits: u8,
) -> Result<Vec<String>, PluginError> {
    let mut subnet_ids = Vec::new();
    for (letter, index) in PRIVATE_SUBNETS {
        let block = private_subnet_block(vpc_block, newbits, index)?;
        let local_name = format!("private_{letter}");
        let subnet_name = names.name(&format!("private-{letter}"));
        let subnet = fragment.resource(
            "aws_subnet",
            &local_name,
            json!({
                "vpc_id": vpc.attr("id"),
                "cidr_block": block.to_string(),
                "availability_zone": zones.attr(&format!("names[{index}]")),
                "map_public_ip_on_launch": false,
                "tags": names.tags(&subnet_name),
            }),
        );
        fragment.resource(
            "aws_route_table_association",
            &local_name,
            json!({"subnet_id": subnet.attr("id"), "route_table_id": route_table.attr("id")}),
        );
        subnet_ids.push(subnet.attr("id"));
    }
    Ok(subnet_ids)
}

/// The Lambda functions' security group: no ingress, HTTPS egress to the gateway endpoints'
/// prefix lists and to the VPC (for interface endpoints).
fn lambda_security_group(
    fragment: &mut Fragment,
    names: &Names<'_>,
    vpc_block: Ipv4Block,
    vpc: &Reference,
    endpoints: &[Reference],
) -> Reference {
    let security_group_name = LAMBDA_SECURITY_GROUP_NAME.render(names.tenant_id, names.suffix);
    let security_group = fragment.resource(
        "aws_security_group",
        "lambda",
        json!({
            "name": security_group_name,
            "description": format!("Tenant {} Lambda functions: no ingress; HTTPS out to S3, DynamoDB and the tenant VPC only", names.tenant_id),
            "vpc_id": vpc.attr("id"),
            "tags": names.tags(&security_group_name),
        }),
    );
    for ((service, display_name), endpoint) in GATEWAY_ENDPOINTS.iter().zip(endpoints) {
        let rule_name = names.name(&format!("lambda-https-{service}"));
        fragment.resource(
            "aws_vpc_security_group_egress_rule",
            &format!("lambda_https_{service}"),
            json!({
                "security_group_id": security_group.attr("id"),
                "description": format!("HTTPS to {display_name} through its gateway endpoint"),
                "ip_protocol": "tcp",
                "from_port": HTTPS,
                "to_port": HTTPS,
                "prefix_list_id": endpoint.attr("prefix_list_id"),
                "tags": names.tags(&rule_name),
            }),
        );
    }
    let vpc_rule_name = names.name("lambda-https-vpc");
    fragment.resource(
        "aws_vpc_security_group_egress_rule",
        "lambda_https_vpc",
        json!({
            "security_group_id": security_group.attr("id"),
            "description": "HTTPS to interface endpoints inside the tenant VPC",
            "ip_protocol": "tcp",
            "from_port": HTTPS,
            "to_port": HTTPS,
            "cidr_ipv4": vpc_block.to_string(),
            "tags": names.tags(&vpc_rule_name),
        }),
    );
    security_group
}

/// Names and tags of one tenant's resources.
struct Names<'a> {
    tenant_id: &'a str,
    suffix: &'a str,
}

impl Names<'_> {
    fn name(&self, kind: &str) -> String {
        resource_name(self.tenant_id, kind, self.suffix)
    }

    fn tags(&self, name: &str) -> Value {
        standard_tags(Some(self.tenant_id), self.suffix, name)
    }
}

/// The tenant's allocated block, which must be a network address AWS accepts for a VPC.
fn vpc_block(cidr_block: &str) -> Result<Ipv4Block, PluginError> {
    let block: Ipv4Block = cidr_block
        .parse()
        .map_err(|e| PluginError::InvalidContext(format!("tenant CIDR block `{cidr_block}`: {e}")))?;
    if !AWS_PREFIX_RANGE.contains(&block.prefix()) {
        return Err(PluginError::InvalidContext(format!(
            "tenant CIDR block {block} cannot be a VPC: AWS accepts /16 to /28"
        )));
    }
    Ok(block)
}

/// The `index`-th private subnet: `cidrsubnet(vpc, newbits, index)`.
fn private_subnet_block(vpc: Ipv4Block, newbits: u8, index: u32) -> Result<Ipv4Block, PluginError> {
    let block = vpc
        .subnet(newbits, index)
        .map_err(|e| PluginError::InvalidSettings(format!("subnet-newbits: {e}")))?;
    if !AWS_PREFIX_RANGE.contains(&block.prefix()) {
        return Err(PluginError::InvalidSettings(format!(
            "subnet-newbits {newbits} makes {block} from {vpc}; AWS subnets are /16 to /28"
        )));
    }
    Ok(block)
}

/// One inline network ACL entry in Terraform JSON.
fn acl_entry(rule_no: u16, action: &str, protocol: &str, cidr_block: &str, ports: (u16, u16)) -> Value {
    json!({
        "rule_no": rule_no,
        "action": action,
        "protocol": protocol,
        "cidr_block": cidr_block,
        "from_port": ports.0,
        "to_port": ports.1,
    })
}

/// The private subnets' ACL entries, `(ingress, egress)`. ACLs are stateless and evaluated in
/// rule-number order: the tenant's own block first, then an explicit deny of every other tenant,
/// then only HTTPS out to the (public) S3 and DynamoDB addresses and its return traffic.
fn network_acl_entries(vpc: Ipv4Block, tenant_pool: Ipv4Block) -> (Vec<Value>, Vec<Value>) {
    const ALL_PROTOCOLS: &str = "-1";
    const ANYWHERE: &str = "0.0.0.0/0";
    // Responses arrive on the client's ephemeral port. 3389 (RDP) is left out so that no rule
    // admits the internet to it (checkov CKV_AWS_229-232); the ports 20-22 lie below the range.
    const EPHEMERAL_BELOW_RDP: (u16, u16) = (1024, 3388);
    const EPHEMERAL_ABOVE_RDP: (u16, u16) = (3390, 65535);
    let own = vpc.to_string();
    let pool = tenant_pool.to_string();
    let ingress = vec![
        acl_entry(100, "allow", ALL_PROTOCOLS, &own, (0, 0)),
        acl_entry(200, "deny", ALL_PROTOCOLS, &pool, (0, 0)),
        acl_entry(300, "allow", "tcp", ANYWHERE, EPHEMERAL_BELOW_RDP),
        acl_entry(310, "allow", "tcp", ANYWHERE, EPHEMERAL_ABOVE_RDP),
    ];
    let egress = vec![
        acl_entry(100, "allow", ALL_PROTOCOLS, &own, (0, 0)),
        acl_entry(200, "deny", ALL_PROTOCOLS, &pool, (0, 0)),
        acl_entry(300, "allow", "tcp", ANYWHERE, (HTTPS, HTTPS)),
    ];
    (ingress, egress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Network, rules};
    use tenant_plugin_sdk::testing::{settings_with, tenant_context, tenant_stack};

    fn acme() -> Fragment {
        tenant_fragment(&tenant_context::<Network>("acme-corp", "10.0.0.0/16", &[])).unwrap()
    }

    #[test]
    fn the_fragment_passes_the_plugins_own_rules() {
        for (id, cidr) in [
            ("acme-corp", "10.0.0.0/16"),
            ("tech-startup", "10.1.0.0/16"),
            ("retail-co", "10.2.0.0/16"),
        ] {
            let fragment = tenant_fragment(&tenant_context::<Network>(id, cidr, &[])).unwrap();
            let stack = tenant_stack(id, cidr, fragment.to_json());
            assert_eq!(rules::check_stack(&stack), Vec::new(), "{id}");
        }
    }

    #[test]
    fn subnets_follow_cidrsubnet_in_two_zones() {
        let fragment = acme();
        let a = fragment.body("aws_subnet.private_a").unwrap();
        let b = fragment.body("aws_subnet.private_b").unwrap();
        assert_eq!(a["cidr_block"], "10.0.0.0/24");
        assert_eq!(b["cidr_block"], "10.0.1.0/24");
        assert_eq!(
            a["availability_zone"],
            "${data.aws_availability_zones.network.names[0]}"
        );
        assert_eq!(
            b["availability_zone"],
            "${data.aws_availability_zones.network.names[1]}"
        );
    }

    #[test]
    fn provides_the_subnet_ids_as_a_list() {
        let fragment = acme();
        let subnets = &fragment
            .provides
            .iter()
            .find(|(name, _)| name == PRIVATE_SUBNET_IDS.name)
            .unwrap()
            .1;
        assert_eq!(
            subnets,
            &ExchangedValue::TextList(vec![
                "${aws_subnet.private_a.id}".into(),
                "${aws_subnet.private_b.id}".into()
            ])
        );
    }

    #[test]
    fn the_acl_lets_own_traffic_pass_before_denying_the_pool() {
        let fragment = acme();
        let acl = fragment.body("aws_network_acl.private").unwrap();
        for direction in ["ingress", "egress"] {
            let entries = acl[direction].as_array().unwrap();
            let own = entries.iter().find(|e| e["cidr_block"] == "10.0.0.0/16").unwrap();
            let pool = entries.iter().find(|e| e["cidr_block"] == "10.0.0.0/8").unwrap();
            assert_eq!(
                (own["action"].as_str(), pool["action"].as_str()),
                (Some("allow"), Some("deny"))
            );
            assert!(own["rule_no"].as_u64() < pool["rule_no"].as_u64(), "{direction}");
            let open = entries.iter().filter(|e| e["cidr_block"] == "0.0.0.0/0");
            for entry in open {
                assert_eq!(
                    entry["protocol"], "tcp",
                    "{direction}: the internet only gets TCP"
                );
                let ports = entry["from_port"].as_u64().unwrap()..=entry["to_port"].as_u64().unwrap();
                assert!(
                    ![20, 21, 22, 3389].iter().any(|p| ports.contains(p)),
                    "{direction}: {entry}"
                );
            }
        }
    }

    #[test]
    fn rejects_unusable_contexts() {
        let cases = [
            ("10.0.0.0", "not CIDR notation", true),
            ("10.0.0.1/16", "host bits set", true),
            ("10.0.0.0/8", "larger than AWS allows for a VPC", true),
            ("10.0.0.0/27", "leaves no room for /35 subnets", false),
        ];
        for (cidr, reason, is_context_error) in cases {
            let error = tenant_fragment(&tenant_context::<Network>("acme-corp", cidr, &[])).unwrap_err();
            assert_eq!(
                matches!(error, PluginError::InvalidContext(_)),
                is_context_error,
                "{cidr}: {reason}: {error}"
            );
        }
        let mut central = tenant_context::<Network>("acme-corp", "10.0.0.0/16", &[]);
        central.tenant = None;
        assert!(
            tenant_fragment(&central).is_err(),
            "a tenant fragment needs a tenant"
        );
    }

    #[test]
    fn newbits_that_make_subnets_too_small_are_a_settings_error() {
        let mut context = tenant_context::<Network>("acme-corp", "10.0.0.0/16", &[]);
        context.settings = settings_with::<Network>(json!({"subnet-newbits": 12})).unwrap();
        context.tenant.as_mut().unwrap().cidr_block = "10.0.0.0/20".into();
        let error = tenant_fragment(&context).unwrap_err();
        assert!(
            matches!(&error, PluginError::InvalidSettings(m) if m.contains("/32")),
            "{error}"
        );
    }
}
