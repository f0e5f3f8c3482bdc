//! Diagnostics as data, in the style of wit-parser's ui tests: each folder under `tests/ui/`
//! is one case, named after the code it shows (`tests/ui/missing-backend/` for
//! `compose::missing-backend`). A case holds a `workload.toml` (and any `*.wat` component
//! it needs, with the `*.wasm` built from it beside it), optionally `args` (the `compose`
//! arguments, whitespace-separated; `resolve workload.toml` when absent) and `env`
//! (`NAME=VALUE` lines, the only environment besides `NO_COLOR`), and `expected`:
//! the exit status and what `compose` prints on standard error, run in the case's folder
//! with no colours.
//!
//! `BLESS=1 cargo test -p compose-cli --test cli ui::` rewrites every `expected`, every
//! `*.wasm` and docs/diagnostics.md, which is generated from compose-resolver's
//! [`Problem::KINDS`] (each variant's code, severity and doc comment) with each case's
//! message as the example.

use super::{root, text};
use compose_resolver::{Kind, Problem};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether to rewrite the expectations instead of checking them.
fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// `Ok` when `path` holds `actual`; with [`bless`], writes it first.
fn expect_file(path: &Path, actual: &[u8]) -> Result<(), String> {
    if bless() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match std::fs::read(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(_) => Err(format!(
            "{} differs from what compose does now; rerun with BLESS=1 and review the diff",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}; rerun with BLESS=1", path.display())),
    }
}

/// Every case folder, sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(root().join("tests/ui"))
        .expect("tests/ui reads")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// The `*.wasm` beside every `*.wat` of `case` is the one the text builds.
fn check_components(case: &Path) -> Result<(), String> {
    for entry in std::fs::read_dir(case).expect("the case reads") {
        let path = entry.expect("a folder entry").path();
        if path.extension().is_some_and(|e| e == "wat") {
            let bytes = wat::parse_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            expect_file(&path.with_extension("wasm"), &bytes)?;
        }
    }
    Ok(())
}

/// The `compose` arguments of `case`.
fn args_of(case: &Path) -> Vec<String> {
    let args = std::fs::read_to_string(case.join("args"))
        .unwrap_or_else(|_| "resolve workload.toml".to_owned());
    args.split_whitespace().map(str::to_owned).collect()
}

/// The environment of `case`: its `env` file's `NAME=VALUE` lines (a registry case sets
/// `COMPOSE_CACHE_DIR=cache`, a cache folder in the case, relative to it).
fn env_of(case: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(case.join("env")).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// `compose` with `args` in `case`, with no colours and none of this process's environment
/// but the case's own.
fn compose_in(case: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .current_dir(case)
        .env_clear()
        .env("NO_COLOR", "1")
        .envs(env_of(case))
        .output()
        .expect("compose runs")
}

/// What `compose` does in `case`: `exit status: N`, a blank line, standard error.
fn run_case(case: &Path) -> String {
    let out = compose_in(case, &args_of(case));
    let status = out
        .status
        .code()
        .map_or("none".to_owned(), |c| c.to_string());
    format!("exit status: {status}\n\n{}", text(&out.stderr))
}

/// For a `resolve` case, the codes `--format json` gives (errors and warnings).
fn json_codes(case: &Path) -> Option<Vec<String>> {
    let args = args_of(case);
    if args.first().map(String::as_str) != Some("resolve") {
        return None;
    }
    let out = compose_in(
        case,
        &[args, vec!["--format".into(), "json".into()]].concat(),
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("`compose resolve --format json` prints JSON");
    let problems = ["problems", "warnings"]
        .iter()
        .filter_map(|k| json[k].as_array());
    let codes = problems.flatten().filter_map(|p| p["code"].as_str());
    Some(codes.map(str::to_owned).collect())
}

fn name_of(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_case_prints_what_it_expects() {
    let mut failures = Vec::new();
    for case in cases() {
        let name = name_of(&case);
        let outcome = check_components(&case).and_then(|()| {
            let code = format!("compose::{name}");
            let output = run_case(&case);
            if !output.contains(&code) {
                return Err(format!("case `{name}` does not show {code}:\n{output}"));
            }
            if json_codes(&case).is_some_and(|codes| !codes.contains(&code)) {
                return Err(format!("case `{name}`: `--format json` has no {code}"));
            }
            expect_file(&case.join("expected"), output.as_bytes())
        });
        failures.extend(outcome.err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_diagnostic_code_has_a_case_and_every_case_a_code() {
    let codes: Vec<_> = Problem::KINDS
        .iter()
        .map(|k| k.code.trim_start_matches("compose::").to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let cases: Vec<_> = cases().iter().map(|c| name_of(c)).collect();
    assert_eq!(cases, codes, "tests/ui/ and Problem's codes");
}

/// The message of the diagnostic with `code` in a case's output: the lines after the
/// code's line, behind miette's mark (`×`, `⚠`) and its continuation bar (`│`), unwrapped
/// (miette wraps at 80 columns, after a space or within a word at `-` and `/`).
fn example(output: &str, code: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.contains(code)).skip(1);
    let first = lines.find(|l| !l.trim().is_empty()).unwrap_or_default();
    let rest = lines.map_while(|l| l.trim().strip_prefix('│'));
    let mut message = first
        .trim()
        .trim_start_matches(['×', '⚠', '☞'])
        .trim()
        .to_owned();
    for part in rest {
        if !message.ends_with(['-', '/']) {
            message.push(' ');
        }
        message.push_str(part.trim());
    }
    message.replace('|', "\\|")
}

/// docs/diagnostics.md, generated from [`Problem::KINDS`] and the cases.
fn diagnostics_page() -> String {
    let mut page = String::from(
        "# Diagnostics\n\n\
         <!-- Generated from compose-resolver's `Problem` (each variant's `#[diagnostic]` \
         attribute and doc comment) and tests/ui/ by cli/tests/ui: edit those, then run \
         `BLESS=1 cargo test -p compose-cli --test cli ui::`. -->\n\n\
         Every problem compose reports has a stable code that tools can match on (it is the \
         `code` field of `--format json`). Errors stop the workload from resolving; \
         warnings do not. Each code links to its case under `tests/ui/`, which shows what \
         `compose` prints, pointing into the workload file, with the help that says how \
         to fix it.\n\n\
         | code | severity | what it means | example |\n|---|---|---|---|\n",
    );
    for Kind { code, warning, doc } in Problem::KINDS {
        let name = code.trim_start_matches("compose::");
        // The case's output as it is now, not its `expected` (which a blessing run may be
        // rewriting at the same time).
        let expected = run_case(&root().join("tests/ui").join(name));
        let severity = if *warning { "warning" } else { "error" };
        let example = example(&expected, code);
        page.push_str(&format!(
            "| [`{code}`](../tests/ui/{name}/expected) | {severity} | {doc} | {example} |\n"
        ));
    }
    page
}

#[test]
fn docs_diagnostics_md_is_generated_from_the_problem_kinds() {
    let page = diagnostics_page();
    if let Err(e) = expect_file(&root().join("docs/diagnostics.md"), page.as_bytes()) {
        panic!("{e}");
    }
}
