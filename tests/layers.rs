//! The library's modules form layers, and every reference between them points down:
//! wire primitives, then the messages, the owned headers, the framings, the codecs. A
//! reference that points up (or sideways, within a layer) fails here, so an import cycle
//! cannot come back. References are read from the code (`crate::module` outside
//! comments); unit tests (`tests.rs`, `*/tests/`) may reach anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The library's top-level modules, bottom layer first; a module may use only modules of
/// lower layers.
const LAYERS: &[&[&str]] = &[
    &["progress", "enums"],
    &["schema"],
    &["error"],
    &["wire"],
    &["unknown"],
    &["message"],
    &["envelope"],
    &["partition", "text", "owned"],
    &["framing"],
    &["grpc"],
    &["tokio_codec", "tonic_codec"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules that each library file refers to, by file.
fn references() -> BTreeMap<String, (String, Vec<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let unit_test = rel.ends_with("tests.rs") || rel.contains("/tests/");
        if rel == "lib.rs" || rel.starts_with("bin/") || unit_test {
            continue;
        }
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut used = Vec::new();
        // An inline unit-test module ends the library code of a file.
        for line in text.lines().take_while(|l| l.trim() != "mod tests {") {
            let code = line.split("//").next().unwrap();
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    !name.is_empty() && name.starts_with(|c: char| c.is_ascii_lowercase()),
                    "{rel}: `{line}` reaches through the crate root; name the module"
                );
                used.push(name);
            }
        }
        found.insert(rel, (module, used));
    }
    found
}

/// The references that do not point down, as messages.
fn violations(refs: &BTreeMap<String, (String, Vec<String>)>) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (file, (module, used)) in refs {
        for target in used.iter().filter(|t| *t != module) {
            if layer_of(target) >= layer_of(module) {
                wrong.push(format!("{file}: `{module}` uses `{target}`, not below it"));
            }
            checked += 1;
        }
    }
    (wrong, checked)
}

#[test]
fn every_reference_between_modules_points_down() {
    let (wrong, checked) = violations(&references());
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        checked > 50,
        "only {checked} references found: is the scan broken?"
    );
}

/// The check itself: an upward and a sideways reference are both caught.
#[test]
fn upward_and_sideways_references_are_caught() {
    let mut refs = references();
    refs.insert(
        "message/extra.rs".into(),
        ("message".into(), vec!["framing".into()]),
    );
    refs.insert("text.rs".into(), ("text".into(), vec!["owned".into()]));
    let (wrong, _) = violations(&refs);
    assert_eq!(wrong.len(), 2, "{wrong:#?}");
}
