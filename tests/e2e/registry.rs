//! The fleet registry end to end: a local S3 API server (moto's server mode, from
//! requirements-dev.txt, started on a free loopback port by the test and stopped after it) and
//! the local-file registry, driven the same way by the real binary.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tenant_plugin_sdk::cidr::Ipv4Block;

/// moto's S3 server (the app `moto_server` runs), one request at a time. `moto_server` serves
/// each request on its own thread, and its S3 `PutObject` checks `If-Match`/`If-None-Match` and
/// then writes, unlocked: two writers racing on one ETag can both succeed, which S3 itself never
/// allows ([conditional writes](https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)).
/// Under load that lost one of sixteen concurrent signups. Served one request at a time (and so
/// one connection at a time, HTTP/1.0), the check and the write are atomic, as in S3.
const SERIAL_MOTO: &str = "import sys\n\
from werkzeug.serving import run_simple\n\
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app\n\
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)\n";

/// A moto S3 server on 127.0.0.1 ([`SERIAL_MOTO`]), killed when dropped.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl MotoServer {
    /// Starts moto's S3 server (moto[server], installed by `./dev` from requirements-dev.txt) on
    /// a free port and waits until it answers.
    pub fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new("python3")
            .args(["-c", SERIAL_MOTO, &port.to_string()])
            .env("MOTO_PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "start moto's server with python3: install the test tools with `./dev setup` \
                 (requirements-dev.txt) and put the virtualenv's bin folder on PATH",
            );
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while server.request("GET", "/moto-api/").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto's server did not answer on port {port} within 60 s (is moto[server] installed in the python3 on PATH?)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Sends one unsigned HTTP request (moto accepts them) and returns the status line.
    fn request(&self, method: &str, path: &str) -> Option<String> {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.lines().next().map(str::to_owned)
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let status = self.request("PUT", &format!("/{bucket}")).expect("moto answers");
        assert!(status.contains(" 200 "), "creating bucket {bucket}: {status}");
    }

    /// The environment that points `tenant-host` (and any AWS client) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `tenant-host` command in `cwd` with `env`, without the caller's ENVIRONMENT_SUFFIX.
pub fn command(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenant-host"));
    command
        .current_dir(cwd)
        .args(args)
        .env_remove("ENVIRONMENT_SUFFIX")
        .envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// Runs `tenant-host` in `cwd` with `env`.
pub fn run(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    command(cwd, env, args).output().expect("run tenant-host")
}

/// The example configuration in `dir`, as `tenants.toml`.
pub fn example_config(dir: &Path) -> PathBuf {
    let path = dir.join("tenants.toml");
    std::fs::copy(workspace().join("examples/tenants.toml"), &path).expect("copy the example");
    path
}

/// Compiles the plugins into wasmtime's cache once, so that concurrent processes measure the
/// registry rather than sixteen simultaneous compilations.
fn warm_plugin_cache(cwd: &Path, plugins: &Path) {
    assert_success(&tenant_host(
        cwd,
        &["plugins", "list", "--plugins", plugins.to_str().unwrap()],
    ));
}

/// Starts `count` concurrent `tenants add` processes against `target` and asserts that all
/// succeed.
fn add_concurrently(cwd: &Path, env: &[(&str, String)], target: &[&str], plugins: &Path, ids: &[String]) {
    let children: Vec<(String, Child)> = ids
        .iter()
        .map(|id| {
            let mut args = vec![
                "tenants",
                "add",
                id.as_str(),
                "--plugins",
                plugins.to_str().unwrap(),
            ];
            args.extend_from_slice(target);
            let child = command(cwd, env, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start tenant-host");
            (id.clone(), child)
        })
        .collect();
    for (id, child) in children {
        let output = child.wait_with_output().expect("wait for tenant-host");
        assert_success(&output);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(&format!("added tenant `{id}` with block 10.")),
            "{stdout}"
        );
    }
}

/// Asserts that the configuration lists `expected` tenants, that the lock gives each of them a
/// block, that no two blocks overlap, and that `tenants list` says the same.
fn assert_consistent(config: &str, lock: &str, listed: &Value, expected: &[String]) {
    let config: toml::Table = config.parse().expect("the registry's configuration is TOML");
    let configured: Vec<&str> = config["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let mut sorted_configured = configured.clone();
    sorted_configured.sort_unstable();
    let mut sorted_expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    sorted_expected.sort_unstable();
    assert_eq!(
        sorted_configured, sorted_expected,
        "every add landed in the configuration once"
    );
    let lock: toml::Table = lock.parse().expect("the registry's lock file is TOML");
    let blocks: BTreeMap<String, Ipv4Block> = lock["blocks"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(id, block)| (id.clone(), block.as_str().unwrap().parse().unwrap()))
        .collect();
    assert_eq!(
        blocks.keys().map(String::as_str).collect::<Vec<_>>(),
        sorted_expected,
        "the lock records exactly the configured tenants"
    );
    let all: Vec<(&String, &Ipv4Block)> = blocks.iter().collect();
    for (i, (a, block_a)) in all.iter().enumerate() {
        for (b, block_b) in &all[i + 1..] {
            assert!(!block_a.overlaps(block_b), "{a} {block_a} overlaps {b} {block_b}");
        }
    }
    for (id, block) in [
        ("acme-corp", "10.0.0.0/16"),
        ("tech-startup", "10.1.0.0/16"),
        ("retail-co", "10.2.0.0/16"),
    ] {
        assert_eq!(
            blocks[id].to_string(),
            block,
            "the example's tenants keep their blocks"
        );
    }
    let listed: BTreeMap<&str, (&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap(),
                (t["cidr_block"].as_str().unwrap(), t["status"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(listed.len(), expected.len());
    for (id, block) in &blocks {
        assert_eq!(
            listed[id.as_str()],
            (block.to_string().as_str(), "active"),
            "{id}"
        );
    }
}

fn new_ids(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("signup-{i:02}")).collect()
}

fn example_ids() -> Vec<String> {
    ["acme-corp", "tech-startup", "retail-co"]
        .map(String::from)
        .to_vec()
}

fn json(output: &Output) -> Value {
    assert_success(output);
    serde_json::from_slice(&output.stdout).expect("JSON on standard output")
}

/// Covers: 16 concurrent `tenants add` against a local S3 API server (conditional writes with
/// If-Match / If-None-Match), starting from the 3-tenant example: 19 tenants, no overlapping
/// block, lock and configuration consistent; `registry pull` and `tenants list` agree.
#[test]
fn sixteen_concurrent_signups_against_s3_get_distinct_blocks() {
    let moto = MotoServer::start();
    moto.create_bucket("fleet-registry");
    let env = moto.env();
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let url = "s3://fleet-registry/fleets/prod";
    let pushed = run(
        work.path(),
        &env,
        &[
            "registry",
            "push",
            "--config",
            config.to_str().unwrap(),
            "--registry",
            url,
        ],
    );
    assert_success(&pushed);
    let again = run(
        work.path(),
        &env,
        &[
            "registry",
            "push",
            "--config",
            config.to_str().unwrap(),
            "--registry",
            url,
        ],
    );
    assert_eq!(again.status.code(), Some(1), "a second push needs --replace");
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    warm_plugin_cache(work.path(), plugins.path());

    let ids = new_ids(16);
    add_concurrently(work.path(), &env, &["--registry", url], plugins.path(), &ids);

    let pulled = work.path().join("pulled/tenants.toml");
    std::fs::create_dir_all(pulled.parent().unwrap()).unwrap();
    assert_success(&run(
        work.path(),
        &env,
        &[
            "registry",
            "pull",
            "--registry",
            url,
            "--config",
            pulled.to_str().unwrap(),
        ],
    ));
    let listed = json(&run(
        work.path(),
        &env,
        &["tenants", "list", "--registry", url, "--format", "json"],
    ));
    let expected: Vec<String> = example_ids().into_iter().chain(ids).collect();
    assert_eq!(expected.len(), 19);
    assert_consistent(
        &std::fs::read_to_string(&pulled).unwrap(),
        &std::fs::read_to_string(pulled.with_extension("lock")).unwrap(),
        &listed,
        &expected,
    );
    let text = std::fs::read_to_string(&pulled).unwrap();
    assert!(
        text.starts_with("# The example fleet"),
        "edits keep the configuration's comments"
    );
}

/// Covers: the local-file registry (`--config FILE`) takes the same concurrent adds the same way.
#[test]
fn concurrent_signups_against_a_local_configuration_get_distinct_blocks() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    warm_plugin_cache(work.path(), plugins.path());
    let ids = new_ids(8);
    add_concurrently(
        work.path(),
        &[],
        &["--config", config.to_str().unwrap()],
        plugins.path(),
        &ids,
    );
    let listed = json(&tenant_host(
        work.path(),
        &[
            "tenants",
            "list",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    let expected: Vec<String> = example_ids().into_iter().chain(ids).collect();
    assert_consistent(
        &std::fs::read_to_string(&config).unwrap(),
        &std::fs::read_to_string(config.with_extension("lock")).unwrap(),
        &listed,
        &expected,
    );
}

/// Covers: `tenants add` validates the new tenant with the configuration's own diagnostics
/// (position in the edited file, help) and writes nothing when it is refused; an explicit block
/// that overlaps another tenant's is refused the same way.
#[test]
fn a_refused_signup_reports_the_configuration_diagnostics_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let plugins_arg = plugins.path().to_str().unwrap();
    let config_arg = config.to_str().unwrap();
    // A first signup records every block in the lock file.
    assert_success(&tenant_host(
        work.path(),
        &[
            "tenants",
            "add",
            "first-co",
            "--plugins",
            plugins_arg,
            "--config",
            config_arg,
        ],
    ));
    let before = read_tree(work.path());
    let bad_id = tenant_host(
        work.path(),
        &[
            "tenants",
            "add",
            "Acme_Corp",
            "--plugins",
            plugins_arg,
            "--config",
            config_arg,
        ],
    );
    assert_eq!(bad_id.status.code(), Some(1), "{}", stderr(&bad_id));
    let text = stderr(&bad_id);
    assert!(
        text.contains("tenant id `Acme_Corp` contains `A`, `_`, `C`"),
        "{text}"
    );
    assert!(text.contains("with tenant `Acme_Corp` added"), "{text}");
    assert!(text.contains("help: use lowercase letters"), "{text}");
    let overlap = tenant_host(
        work.path(),
        &[
            "tenants",
            "add",
            "newco",
            "--cidr-block",
            "10.1.0.0/16",
            "--plugins",
            plugins_arg,
            "--config",
            config_arg,
        ],
    );
    assert_eq!(overlap.status.code(), Some(1), "{}", stderr(&overlap));
    assert!(stderr(&overlap).contains("overlaps"), "{}", stderr(&overlap));
    assert!(before == read_tree(work.path()), "a refused add changed a file");
}

/// Covers: removing a tenant keeps its block reserved (listed as retired, not given to the next
/// signup) until `tenants release`, which refuses a tenant that is still configured; adding the
/// same tenant twice changes nothing.
#[test]
fn a_removed_tenant_keeps_its_block_until_released() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let p = plugins.path().to_str().unwrap();
    let c = config.to_str().unwrap();
    let run = |args: &[&str]| tenant_host(work.path(), args);
    assert_success(&run(&["tenants", "add", "newco", "--plugins", p, "--config", c]));
    let twice = run(&["tenants", "add", "newco", "--plugins", p, "--config", c]);
    assert_success(&twice);
    assert!(String::from_utf8_lossy(&twice.stdout).contains("already in"));
    let still = run(&[
        "tenants",
        "release",
        "tech-startup",
        "--plugins",
        p,
        "--config",
        c,
    ]);
    assert_eq!(still.status.code(), Some(1));
    assert!(
        stderr(&still).contains("is still configured"),
        "{}",
        stderr(&still)
    );

    let removed = run(&["tenants", "remove", "tech-startup", "--plugins", p, "--config", c]);
    assert_success(&removed);
    let said = String::from_utf8_lossy(&removed.stdout);
    assert!(
        said.contains("block 10.1.0.0/16 stays reserved") && said.contains("tenant-tech-startup-dev"),
        "{said}"
    );
    assert_success(&run(&["tenants", "add", "later", "--plugins", p, "--config", c]));
    let listed = json(&run(&["tenants", "list", "--config", c, "--format", "json"]));
    let status: BTreeMap<&str, (&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap(),
                (t["cidr_block"].as_str().unwrap(), t["status"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(status["tech-startup"], ("10.1.0.0/16", "retired"));
    assert_eq!(status["newco"], ("10.3.0.0/16", "active"));
    assert_eq!(
        status["later"],
        ("10.4.0.0/16", "active"),
        "a reserved block is not reused"
    );

    assert_success(&run(&[
        "tenants",
        "release",
        "tech-startup",
        "--plugins",
        p,
        "--config",
        c,
    ]));
    assert_success(&run(&[
        "tenants",
        "add",
        "after-release",
        "--plugins",
        p,
        "--config",
        c,
    ]));
    let listed = json(&run(&["tenants", "list", "--config", c, "--format", "json"]));
    let ids: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["cidr_block"].as_str().unwrap()))
        .collect();
    assert!(!ids.iter().any(|(id, _)| *id == "tech-startup"), "{ids:?}");
    assert!(
        ids.contains(&("after-release", "10.1.0.0/16")),
        "a released block is free again: {ids:?}"
    );
}

/// A recording stand-in for the AWS CLI: appends its arguments to `$AWS_RECORD`.
const AWS_STAND_IN: &str = "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$AWS_RECORD\"\n";

/// The job script as the synthesized central stack's buildspec carries it: the body of its
/// heredoc.
fn script_from_buildspec(central: &Path) -> String {
    let document: Value =
        serde_json::from_slice(&std::fs::read(central.join("cdk.tf.json")).unwrap()).unwrap();
    let buildspec = document["resource"]["aws_codebuild_project"]["provisioner"]["source"][0]["buildspec"]
        .as_str()
        .expect("the provisioning project has an inline buildspec");
    let body: Vec<&str> = buildspec
        .lines()
        .skip_while(|line| !line.ends_with("<<'PROVISION_JOB'"))
        .skip(1)
        .take_while(|line| line.trim() != "PROVISION_JOB")
        .map(|line| line.strip_prefix("        ").unwrap_or(line))
        .collect();
    body.join("\n") + "\n"
}

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn checked(command: &mut Command) {
    let status = command.status().expect("run a packaging tool");
    assert!(status.success(), "{command:?} failed");
}

/// What the job is given: the pinned tools as local files (the URLs are `file://`, which the
/// job's fetch accepts like `https://`) and the environment CodeBuild would set.
struct JobKit {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl JobKit {
    fn new(
        moto: &MotoServer,
        registry: &str,
        plugins: &Path,
        stand_in: &crate::deploy::StandIn,
        central_env: &Value,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // terraform: the recording stand-in, zipped like a HashiCorp release.
        let release = root.join("release");
        std::fs::create_dir_all(&release).unwrap();
        executable(&release.join("terraform"), crate::deploy::STAND_IN);
        let zip = root.join("terraform.zip");
        checked(
            Command::new("zip")
                .args(["-q", "-j"])
                .arg(&zip)
                .arg(release.join("terraform")),
        );
        // The tenant-host bundle: bin/tenant-host and plugins/*.wasm.
        let bundle = root.join("bundle");
        std::fs::create_dir_all(bundle.join("bin")).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_tenant-host"), bundle.join("bin/tenant-host")).unwrap();
        std::fs::create_dir_all(bundle.join("plugins")).unwrap();
        for entry in std::fs::read_dir(plugins).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), bundle.join("plugins").join(entry.file_name())).unwrap();
        }
        let tarball = root.join("bundle.tar.gz");
        checked(
            Command::new("tar")
                .arg("-czf")
                .arg(&tarball)
                .arg("-C")
                .arg(&bundle)
                .args(["bin", "plugins"]),
        );
        let aws = root.join("aws-cli");
        std::fs::create_dir_all(&aws).unwrap();
        executable(&aws.join("aws"), AWS_STAND_IN);
        let sha = |path: &Path| tenant_plugin_sdk::package::sha256_hex(&std::fs::read(path).unwrap());
        let variable = |name: &str| -> String {
            central_env
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .and_then(|v| v["value"].as_str())
                .unwrap_or_else(|| panic!("the provisioning project sets {name}"))
                .to_owned()
        };
        let mut env = moto.env();
        env.extend([
            ("ENVIRONMENT_SUFFIX", variable("ENVIRONMENT_SUFFIX")),
            ("EVENT_BUS_NAME", variable("EVENT_BUS_NAME")),
            (
                "DEPLOY_ROLE_ARN",
                "arn:aws:iam::123456789012:role/saas-tenant-deployer-dev".to_owned(),
            ),
            ("REGISTRY_URL", registry.to_owned()),
            ("TERRAFORM_VERSION", "1.14.0".to_owned()),
            ("TERRAFORM_URL", format!("file://{}", zip.display())),
            ("TERRAFORM_SHA256", sha(&zip)),
            ("TOOL_BUNDLE_URL", format!("file://{}", tarball.display())),
            ("TOOL_BUNDLE_SHA256", sha(&tarball)),
            ("AWS_RECORD", root.join("aws-record.txt").display().to_string()),
            (
                "PATH",
                format!("{}:{}", aws.display(), std::env::var("PATH").unwrap_or_default()),
            ),
            ("TERRAFORM_RECORD", stand_in.record.display().to_string()),
        ]);
        Self { dir, env }
    }

    /// Starts the job script for one tenant, as CodeBuild would: bash, the project's variables
    /// and the workflow's two overrides, a fresh work folder.
    fn start(
        &self,
        script: &Path,
        tenant: &str,
        action: &str,
        extra: &[(&'static str, String)],
    ) -> (Child, PathBuf) {
        let work = self.dir.path().join(format!("work-{tenant}-{action}"));
        let mut command = Command::new("bash");
        command
            .arg(script)
            .env_remove("ENVIRONMENT_SUFFIX")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("TENANT_ID", tenant)
            .env("JOB_ACTION", action)
            .env("WORK_DIR", &work)
            .envs(extra.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        (command.spawn().expect("run bash"), work)
    }

    fn events(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("aws-record.txt")).unwrap_or_default()
    }
}

/// Problems of a stack document against the embedded provider schema and its own references.
fn schema_problems(document: &Value) -> Vec<String> {
    use tenant_host::schema::{BlockKind, ProviderSchema, undeclared_references};
    let schema = ProviderSchema::embedded().unwrap();
    let mut problems = Vec::new();
    for (section, kind) in [("resource", BlockKind::Resource), ("data", BlockKind::Data)] {
        for (type_name, blocks) in document[section].as_object().into_iter().flatten() {
            for (name, body) in blocks.as_object().unwrap() {
                problems.extend(
                    schema
                        .validate(kind, type_name, body)
                        .into_iter()
                        .map(|p| format!("{type_name}.{name}: {p}")),
                );
            }
        }
    }
    problems.extend(
        undeclared_references(document)
            .into_iter()
            .map(|r| format!("undeclared {r}")),
    );
    problems
}

/// Covers: the provisioning job's script, taken from the synthesized central stack's buildspec
/// (and equal to plugins/events/job/provision.sh), run as CodeBuild would run it against a local
/// S3 API server (moto), with terraform and the AWS CLI replaced by recording stand-ins (no
/// provider can be downloaded here): four concurrent signups get distinct blocks, each new stack
/// is synthesized, schema-valid and applied under the deployer role with its tenant tag, the
/// registry records them, every other tenant stack is byte-identical to before; a bundle whose
/// checksum does not match is refused and announced; one offboarding destroys the stack, then
/// removes the tenant and releases its block.
#[test]
fn the_provisioning_job_runs_as_codebuild_would() {
    let moto = MotoServer::start();
    moto.create_bucket("fleet-registry");
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let baseline = work.path().join("baseline");
    assert_success(&synth_with_config(
        work.path(),
        plugins.path(),
        &config,
        &["--out", baseline.to_str().unwrap()],
    ));
    let registry = "s3://fleet-registry/fleet/dev";
    assert_success(&run(
        work.path(),
        &moto.env(),
        &[
            "registry",
            "push",
            "--config",
            config.to_str().unwrap(),
            "--registry",
            registry,
        ],
    ));
    let central = baseline.join("stacks/central-dev");
    let script_text = script_from_buildspec(&central);
    assert_eq!(
        script_text,
        std::fs::read_to_string(workspace().join("plugins/events/job/provision.sh")).unwrap(),
        "the buildspec carries the repository's job script unchanged"
    );
    let script = work.path().join("provision.sh");
    std::fs::write(&script, &script_text).unwrap();
    let central_document: Value =
        serde_json::from_slice(&std::fs::read(central.join("cdk.tf.json")).unwrap()).unwrap();
    let project_env = &central_document["resource"]["aws_codebuild_project"]["provisioner"]["environment"][0]
        ["environment_variable"];
    let stand_in = crate::deploy::StandIn::new();
    let kit = JobKit::new(&moto, registry, plugins.path(), &stand_in, project_env);
    warm_plugin_cache(work.path(), plugins.path());

    // A tampered bundle: refused before anything else happens, and announced.
    let (child, _) = kit.start(
        &script,
        "tampered",
        "signup",
        &[("TOOL_BUNDLE_SHA256", "0".repeat(64))],
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the checksum of file://"),
        "{}",
        stderr(&output)
    );
    let events = kit.events();
    assert!(
        events.contains("Tenant Provisioning Failed")
            && events.contains(r#"\"step\":\"installing tenant-host\""#),
        "{events}"
    );

    let signups = ["new-a", "new-b", "new-c", "new-d"];
    let jobs: Vec<(&str, Child, PathBuf)> = signups
        .iter()
        .map(|tenant| {
            let (child, folder) = kit.start(&script, tenant, "signup", &[]);
            (*tenant, child, folder)
        })
        .collect();
    let mut folders = BTreeMap::new();
    for (tenant, child, folder) in jobs {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "job for {tenant} failed:\n{}",
            stderr(&output)
        );
        folders.insert(tenant, folder);
    }
    let listed = json(&run(
        work.path(),
        &moto.env(),
        &["tenants", "list", "--registry", registry, "--format", "json"],
    ));
    let blocks: BTreeMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["cidr_block"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(blocks.len(), 7, "{blocks:?}");
    let distinct: std::collections::BTreeSet<&String> = blocks.values().collect();
    assert_eq!(distinct.len(), 7, "every tenant has its own block: {blocks:?}");
    let calls = stand_in.take();
    let events = kit.events();
    for (tenant, folder) in &folders {
        let stack = folder.join(format!("cdktf.out/stacks/tenant-{tenant}-dev"));
        let document: Value =
            serde_json::from_slice(&std::fs::read(stack.join("cdk.tf.json")).unwrap()).unwrap();
        let problems = schema_problems(&document);
        assert!(problems.is_empty(), "{tenant}: {problems:?}");
        let vpc = document["resource"]["aws_vpc"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        assert_eq!(
            vpc["cidr_block"].as_str(),
            Some(blocks[*tenant].as_str()),
            "{tenant}"
        );
        let role: Value =
            serde_json::from_slice(&std::fs::read(stack.join("deploy_role_override.tf.json")).unwrap())
                .unwrap();
        assert_eq!(
            role["provider"]["aws"][0]["assume_role"][0]["tags"]["TenantId"],
            *tenant
        );
        let stack_name = format!("tenant-{tenant}-dev");
        for command in ["init -input=false", "apply -auto-approve -input=false"] {
            assert!(
                calls.contains(&(stack_name.clone(), command.to_owned())),
                "{tenant}: {command} in {calls:?}"
            );
        }
        assert!(
            events.contains(&format!(
                r#"\"tenant_id\":\"{tenant}\",\"action\":\"signup\",\"stack\":\"{stack_name}\""#
            )),
            "{events}"
        );
        for other in ["acme-corp", "tech-startup", "retail-co"] {
            let path = format!("stacks/tenant-{other}-dev/cdk.tf.json");
            assert!(
                std::fs::read(folder.join("cdktf.out").join(&path)).unwrap()
                    == std::fs::read(baseline.join(&path)).unwrap(),
                "{tenant}'s job changed {path}"
            );
        }
    }
    assert_eq!(events.matches("Tenant Provisioned").count(), 4, "{events}");

    let (child, folder) = kit.start(&script, "new-b", "offboarding", &[]);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "offboarding failed:\n{}",
        stderr(&output)
    );
    assert!(
        folder
            .join("cdktf.out/stacks/tenant-new-b-dev/cdk.tf.json")
            .is_file()
    );
    let calls = stand_in.take();
    assert_eq!(
        calls.last(),
        Some(&(
            "tenant-new-b-dev".to_owned(),
            "destroy -auto-approve -input=false".to_owned()
        ))
    );
    assert!(kit.events().contains("Tenant Offboarded"));
    let listed = json(&run(
        work.path(),
        &moto.env(),
        &["tenants", "list", "--registry", registry, "--format", "json"],
    ));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert!(
        !ids.contains(&"new-b"),
        "offboarding removed the tenant and released its block: {ids:?}"
    );
}
