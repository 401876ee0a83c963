//! The conformance-test macro. It is defined outside [`testing`](crate::testing) (which exists
//! only in native builds) so that a plugin can invoke it unconditionally; what it expands to is
//! compiled only in the plugin's tests.

/// Gives a plugin its conformance tests, in a `conformance` test module:
///
/// - `golden_fragments`: the tenant fragment of `acme-corp` (10.0.0.0/16, suffix `dev`) and the
///   central fragment match `tenant-acme-corp.json` and `central.json` in the golden folder
///   (`BLESS=1` rewrites them; no file for a stack the plugin adds nothing to);
/// - `provides_declared`: both fragments provide exactly the declared values, in their shapes;
/// - `own_rules_only`: the plugin's checks over its own fragments cite only declared rules;
/// - `name_patterns_match`: the physical names the fragments create (`name`, `name_prefix`,
///   `bucket`, `function_name`, ... see [`naming::is_physical_name`](crate::naming::is_physical_name))
///   are exactly the declared patterns;
/// - `settings_schema_parses`: the declared defaults parse into the settings type;
/// - `settings_keys_match_fields`: the declared settings and the settings type's fields are the
///   same keys, so a name written differently in the two places fails.
///
/// ```ignore
/// tenant_plugin_sdk::conformance_tests!(Audit, golden = "tests/golden");
/// // with the inputs other plugins would provide:
/// tenant_plugin_sdk::conformance_tests!(Audit, golden = "tests/golden", tenant = synth::tests::acme_context);
/// ```
///
/// `tenant` and `central` name functions returning the contexts to use (default: no inputs).
#[macro_export]
macro_rules! conformance_tests {
    ($plugin:ty, golden = $golden:literal $(, tenant = $tenant:path)? $(, central = $central:path)? $(,)?) => {
        #[cfg(test)]
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            use $crate::testing::conformance as check;

            fn tenant() -> $crate::StackContext<<$plugin as $crate::Plugin>::Settings> {
                $crate::__conformance_context!(
                    $($tenant)?,
                    $crate::testing::tenant_context::<$plugin>("acme-corp", "10.0.0.0/16", &[])
                )
            }

            fn central() -> $crate::StackContext<<$plugin as $crate::Plugin>::Settings> {
                $crate::__conformance_context!($($central)?, $crate::testing::central_context::<$plugin>(&[]))
            }

            const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/", $golden);

            #[test]
            fn golden_fragments() {
                check::golden::<$plugin>(GOLDEN, &tenant());
                check::golden::<$plugin>(GOLDEN, &central());
            }

            #[test]
            fn provides_declared() {
                check::provides_declared::<$plugin>(&tenant());
                check::provides_declared::<$plugin>(&central());
            }

            #[test]
            fn own_rules_only() {
                check::own_rules_only::<$plugin>(&tenant(), &central());
            }

            #[test]
            fn name_patterns_match() {
                check::name_patterns_match::<$plugin>(&tenant());
                check::name_patterns_match::<$plugin>(&central());
            }

            #[test]
            fn settings_schema_parses() {
                check::settings_schema_parses::<$plugin>();
            }

            #[test]
            fn settings_keys_match_fields() {
                check::settings_keys_match_fields::<$plugin>();
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_context {
    (, $default:expr) => {
        $default
    };
    ($given:path, $default:expr) => {
        $given()
    };
}
