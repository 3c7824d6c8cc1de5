//! `scylla2-load --help` and `-h` as a user runs them: exit status 0, the help on stdout
//! with every flag and a default for each; an unknown flag exits 2 and points at `--help`.
//! (That the help lists exactly the flags the parser accepts is the binary's unit test
//! `help_lists_every_flag_the_parser_accepts`.)

use std::process::Command;

const FLAGS: &[&str] = &[
    "--uri",
    "--workload",
    "--requests",
    "--concurrency",
    "--threads",
    "--driver",
    "--keys",
    "--time-limit",
    "--warmup",
    "--compression",
    "--write-coalescing",
    "--rate",
    "--json",
    "--sim",
    "--no-progress",
];

#[test]
fn help_exits_zero_and_describes_every_flag() {
    for arg in ["--help", "-h"] {
        let out = Command::new(env!("CARGO_BIN_EXE_scylla2-load"))
            .arg(arg)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{arg}: {:?}", out.status);
        let help = String::from_utf8(out.stdout).expect("utf-8");
        for flag in FLAGS {
            let at = help
                .find(&format!("  {flag} "))
                .or_else(|| help.find(&format!("  {flag}\n")))
                .unwrap_or_else(|| panic!("{flag} missing from {arg}:\n{help}"));
            // The description is the next line; it names the default.
            let description = help[at..].lines().nth(1).expect("description line");
            assert!(description.contains("Default: "), "{flag}: {description}");
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scylla2-load"))
        .arg("--no-such-flag")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--no-such-flag") && err.contains("--help"),
        "{err}"
    );
}
