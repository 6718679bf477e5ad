//! RFC 1662 framing: how fast the HDLC encoder and decoder handle realistic PPP packets,
//! against a plain copy of the same bytes into a preallocated buffer, measured in the same
//! run (BENCHMARKS.md).
//!
//! Cases: a 1500-octet IPv4 datagram (the default MRU, RFC 1661 §6.1) under the default
//! map, where every control octet is escaped (RFC 1662 §7.1), and under a negotiated map
//! of 0, where none is; and a small LCP Configure-Request, which always goes out under the
//! default map (RFC 1662 §7.1).
//!
//! The `stream` groups frame 64 KiB of such datagrams back to back into one buffer and
//! deframe that buffer in one call, as a link under load does, against a copy of the same
//! 64 KiB.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ras_ppp::hdlc::{Decoder, Encoder, ReceiveAccm, TransmitAccm};
use ras_ppp::wire::Protocol;

/// A 1500-octet IPv4/TCP datagram: a real header, then payload octets from a fixed
/// linear congruential sequence, so about one octet in eight is a control character.
fn ipv4_datagram() -> Vec<u8> {
    let mut datagram = vec![
        0x45, 0x00, 0x05, 0xDC, 0x1C, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0A, 0x00, 0x00,
        0x02, 0xC0, 0xA8, 0x00, 0x01, // IPv4 header, 1500 octets, TCP
        0xC3, 0x50, 0x00, 0x50, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x18, 0x20,
        0x00, 0x00, 0x00, 0x00, 0x00, // TCP header
    ];
    let mut state: u32 = 0x1234_5678;
    while datagram.len() < 1500 {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        datagram.push((state >> 24) as u8);
    }
    datagram
}

/// pppd's usual Configure-Request: ACCM 0, a magic number, PFC, ACFC (20 octets).
const LCP_CONFREQ: [u8; 20] = [
    0x01, 0x01, 0x00, 0x14, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x5d, 0x58, 0xcf, 0x41,
    0x07, 0x02, 0x08, 0x02,
];

struct Case {
    name: &'static str,
    protocol: Protocol,
    information: Vec<u8>,
    encoder: Encoder,
    receive_accm: ReceiveAccm,
}

fn cases() -> Vec<Case> {
    let negotiated = Encoder {
        accm: TransmitAccm::from_async_map(0),
        ..Encoder::default()
    };
    vec![
        Case {
            name: "ipv4_1500_default_accm",
            protocol: Protocol::IPV4,
            information: ipv4_datagram(),
            encoder: Encoder::default(),
            receive_accm: ReceiveAccm::DEFAULT,
        },
        Case {
            name: "ipv4_1500_accm_0",
            protocol: Protocol::IPV4,
            information: ipv4_datagram(),
            encoder: negotiated,
            receive_accm: ReceiveAccm(0),
        },
        Case {
            name: "lcp_confreq_20",
            protocol: Protocol::LCP,
            information: LCP_CONFREQ.to_vec(),
            encoder: Encoder::default(),
            receive_accm: ReceiveAccm::DEFAULT,
        },
    ]
}

fn framing(c: &mut Criterion) {
    for case in cases() {
        let wire = case.encoder.encode(case.protocol, &case.information);
        let mut decoder = Decoder::default();
        decoder.set_accm(case.receive_accm);
        let mut frames = Vec::new();
        decoder.decode(&wire, &mut frames);
        assert_eq!(frames.len(), 1, "{}: the wire does not decode", case.name);
        assert_eq!(frames[0].information, case.information);

        let mut group = c.benchmark_group(format!("hdlc/{}", case.name));
        // Every function handles the same packet: throughput is in packet octets.
        group.throughput(Throughput::Bytes(case.information.len() as u64));
        group.bench_function("encode", |b| {
            b.iter(|| {
                case.encoder
                    .encode(black_box(case.protocol), black_box(&case.information))
            });
        });
        group.bench_function("decode", |b| {
            b.iter(|| {
                frames.clear();
                decoder.decode(black_box(&wire), &mut frames);
                frames.len()
            });
        });
        let mut copy = vec![0u8; case.information.len()];
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                copy.copy_from_slice(black_box(&case.information));
                black_box(&copy);
            });
        });
        group.finish();
    }
}

/// Datagrams in a 64 KiB stream: 64 KiB of information fields, framed back to back.
const STREAM_OCTETS: usize = 64 * 1024;

fn streams(c: &mut Criterion) {
    for case in cases()
        .into_iter()
        .filter(|case| case.information.len() == 1500)
    {
        let count = STREAM_OCTETS.div_ceil(case.information.len());
        let mut wire = Vec::new();
        for _ in 0..count {
            case.encoder
                .encode_into(case.protocol, &case.information, &mut wire);
        }
        let mut decoder = Decoder::default();
        decoder.set_accm(case.receive_accm);
        let mut frames = Vec::new();
        decoder.decode(&wire, &mut frames);
        assert_eq!(
            frames.len(),
            count,
            "{}: the stream does not decode",
            case.name
        );

        let mut group = c.benchmark_group(format!("hdlc/stream_64k_{}", case.name));
        let octets = count * case.information.len();
        group.throughput(Throughput::Bytes(octets as u64));
        let mut out = Vec::with_capacity(wire.len());
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..count {
                    case.encoder.encode_into(
                        black_box(case.protocol),
                        black_box(&case.information),
                        &mut out,
                    );
                }
                out.len()
            });
        });
        group.bench_function("decode", |b| {
            b.iter(|| {
                frames.clear();
                decoder.decode(black_box(&wire), &mut frames);
                frames.len()
            });
        });
        let source = case.information.repeat(count);
        let mut copy = vec![0u8; octets];
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                copy.copy_from_slice(black_box(&source));
                black_box(&copy);
            });
        });
        group.finish();
    }
}

criterion_group!(benches, framing, streams);
criterion_main!(benches);
