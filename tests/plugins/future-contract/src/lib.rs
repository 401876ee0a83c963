//! A test fixture: a component exporting `tenant:plugin/plugin-api@0.3.0`.

// Generated bindings need `unsafe` for the canonical ABI.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    struct FuturePlugin;

    impl exports::tenant::plugin::plugin_api::Guest for FuturePlugin {
        fn describe() -> String {
            "from the future".into()
        }
    }

    export!(FuturePlugin);
}
