//! Faults of the upstream registry during `vetted admit` are rejections of that release (exit
//! 1), not operational failures (exit 2).
mod common;
mod gate_support;
use gate_support::{Published, Upstream, Workspace, days_ago, failed, json};
use serde_json::json;

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "@acme/*"
criteria = ["safe-to-run"]
provenance = "if-present"
min-age = "2d"
"#;

#[test]
fn a_dependency_the_registry_does_not_have_is_a_rejection_exit_1() {
    let up = Upstream::start();
    let mut wrapper = Published::new("@acme/agent", "1.0.0", &days_ago(10));
    wrapper.meta = json!({"dependencies": {"@acme/vanished": "^1.0.0"}});
    up.publish(wrapper);
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:@acme/agent@1.0.0");
    let out = ws.admit("npm:@acme/agent@1.0.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/vanished"), ["not-found"]);
    assert!(!ws.path("store/index.json").exists());
    // Passing twin: publish it (and certify it) and the closure goes in.
    let mut dep = Published::new("@acme/vanished", "1.0.1", &days_ago(10));
    dep.files = vec![("index.js".into(), b"module.exports = 1;\n".to_vec())];
    ws.upstream.publish(dep);
    ws.certify("npm:@acme/vanished@1.0.1");
    assert_eq!(
        ws.admit("npm:@acme/agent@1.0.0", &[]).status.code(),
        Some(0)
    );
}
