//! Child processes that die with their test.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A child process in its own process group; dropping it kills the whole group (wrappers such
/// as Miniflare's node process start workerd as a grandchild).
pub struct Proc {
    child: Child,
}

impl Proc {
    /// Spawns `program` with `args` and extra `env`, output appended to `log`.
    pub fn spawn(program: &str, args: &[&str], env: &[(String, String)], log: &Path) -> Proc {
        use std::os::unix::process::CommandExt as _;
        let out = File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e} (run scripts/setup.sh)"));
        Proc { child }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
