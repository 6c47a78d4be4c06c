//! Writes the tonic client and server code for testdata/schema/atomix/{counter,map}/ into
//! tests/generated/. Run from anywhere; paths are taken from this crate's location.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let testdata = root.join("testdata/schema");
    let shared = root.join("../shared/schema");
    let out = root.join("tests/generated");
    std::fs::create_dir_all(&out)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .out_dir(&out)
        .compile_protos(
            &[
                testdata.join("atomix/counter/counter.proto"),
                testdata.join("atomix/map/map.proto"),
            ],
            &[testdata, shared],
        )?;
    println!("wrote {}", out.display());
    Ok(())
}
