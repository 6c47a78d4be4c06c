#!/usr/bin/env python3
"""Seeds fuzz/corpus/TARGET/ from the golden fixtures and the conformance corpus in
testdata/ (one file per input, named by its content's hash). Idempotent."""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata")
TARGETS = {
    "decode_request": ["request"],
    "decode_response": ["response"],
    "decode_stream": ["stream"],
    "structured": ["request", "response", "stream"],
    "differential_quick_protobuf": ["request", "response", "stream"],
    "length_delimited": ["stream"],
    "decode_envelope": ["request_envelope", "response_envelope"],
    "grpc_framing": [],
}


def inputs(kind):
    with open(os.path.join(TESTDATA, "fixtures", "cases.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, k, _ = line.rstrip("\n").split("\t")
            if k == kind:
                with open(os.path.join(TESTDATA, "fixtures", name + ".bin"), "rb") as b:
                    yield b.read()
    with open(os.path.join(TESTDATA, "conformance", kind + ".tsv")) as f:
        for line in f:
            yield bytes.fromhex(line.split("\t")[0])


for target, kinds in TARGETS.items():
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    if os.listdir(out):
        continue
    for kind in kinds:
        for data in inputs(kind):
            with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
