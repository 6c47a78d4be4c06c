//! A tour of the crate on the bundled fixtures: decode a captured RequestHeader and
//! ResponseHeader, print them as `protoc --decode` would, rewrite a field, re-encode.
//!
//!     cargo run --example tour

use atomix_headers::{Message, RequestHeader, ResponseHeader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/fixtures");
    let request_bytes = std::fs::read(format!("{dir}/request_unknown_in_name_and_streams.bin"))?;
    let response_bytes = std::fs::read(format!("{dir}/response_newer_revision.bin"))?;

    let mut request = RequestHeader::decode(&request_bytes)?;
    println!("RequestHeader, {} bytes:\n{request}", request_bytes.len());
    let name = request.name.unwrap_or_default();
    println!(
        "primitive {:?} in namespace {:?}, {} streams",
        name.name,
        name.namespace,
        request.streams.len()
    );

    request.index = 1_000_000;
    let mut out = Vec::with_capacity(request.encoded_len());
    request.encode(&mut out)?;
    println!(
        "\nwith index stamped, {} bytes, unknown fields kept:\n{}",
        out.len(),
        RequestHeader::decode(&out)?
    );

    let response = ResponseHeader::decode(&response_bytes)?;
    println!(
        "ResponseHeader from a newer peer, {} bytes:\n{response}",
        response_bytes.len()
    );
    println!(
        "status {:?}; {} bytes of fields this schema does not know",
        response.status,
        response.unknown_fields.encoded_len()
    );
    assert_eq!(
        response.encode_to_vec().unwrap(),
        response_bytes,
        "passes through unchanged"
    );
    Ok(())
}
