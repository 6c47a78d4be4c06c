//! Exact agreement with Google's reference runtime (upb) on every input of the
//! conformance corpus: same accept/reject decision, and for accepted inputs our
//! decode-then-encode equals its re-serialization. testdata/generate.py made the corpus.

mod common;
use common::*;

#[test]
fn agrees_with_reference_runtime_on_every_input() {
    let mut total = 0;
    let mut disagreements = Vec::new();
    for kind in KINDS {
        for row in rows(&format!("conformance/{kind}.tsv")) {
            total += 1;
            let input = unhex(&row[0]);
            let ours = decode(kind, &input);
            let verdict = match (row[1].as_str(), &ours) {
                ("ERR", Err(_)) => None,
                ("ERR", Ok(out)) => Some(format!(
                    "reference rejects, we accept as {}",
                    hex(&out.encoded)
                )),
                ("OK", Err(e)) => Some(format!("reference accepts, we reject: {e}")),
                ("OK", Ok(out)) => {
                    let expected = unhex(&row[2]);
                    if out.encoded != expected {
                        Some(format!(
                            "re-encoding {} != reference {}",
                            hex(&out.encoded),
                            row[2]
                        ))
                    } else if out.encoded_len != expected.len() {
                        Some(format!(
                            "encoded_len {} != {}",
                            out.encoded_len,
                            expected.len()
                        ))
                    } else {
                        None
                    }
                }
                (other, _) => panic!("bad verdict {other}"),
            };
            if let Some(why) = verdict {
                disagreements.push(format!("{kind} {}: {why}", row[0]));
            }
        }
    }
    assert!(total >= 20_000, "corpus has only {total} inputs");
    assert!(
        disagreements.is_empty(),
        "{} of {total} inputs disagree, first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn text_format_matches_protoc_decode() {
    let mut total = 0;
    let mut wrong = Vec::new();
    for kind in KINDS {
        for row in rows(&format!("text/{kind}.tsv")) {
            total += 1;
            let input = unhex(&row[0]);
            let expected = String::from_utf8(unhex(&row[1])).unwrap();
            let ours = decode(kind, &input).unwrap_or_else(|e| panic!("{kind} {}: {e}", row[0]));
            if ours.text != expected {
                wrong.push(format!(
                    "{kind} {}:\n--- protoc\n{expected}--- ours\n{}",
                    row[0], ours.text
                ));
            }
        }
    }
    assert!(total >= 1_000, "text corpus has only {total} inputs");
    assert!(
        wrong.is_empty(),
        "{} of {total} differ:\n{}",
        wrong.len(),
        wrong.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}
