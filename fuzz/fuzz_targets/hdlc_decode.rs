//! The RFC 1662 deframer (`ras_ppp::hdlc::Decoder`): arbitrary line bytes under a receive
//! map, FCS kind and MRU the input picks must never panic, and feeding them in chunks must
//! give exactly what one call gives (frames and every counter), whichever of the
//! decoder's paths (branch-free pass, octet-by-octet fallback, run copying under a map of
//! 0) each stretch takes. Then the input's tail, framed by the `Encoder` under a map the
//! input picks, must decode back to itself.
//!
//! Run with `cargo +nightly fuzz run hdlc_decode` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::hdlc::{Decoder, Encoder, FcsKind, Frame, ReceiveAccm, TransmitAccm};
use ras_ppp::wire::Protocol;

fuzz_target!(|data: &[u8]| {
    let Some((&[pick, map0, map1, chunk], line)) = data.split_first_chunk::<4>() else {
        return;
    };
    // Receive map: 0, all, or one from the input; FCS and MRU from `pick`.
    let accm = match pick & 3 {
        0 => 0,
        1 => u32::MAX,
        _ => u32::from_le_bytes([map0, map1, map0 ^ map1, pick]),
    };
    let fcs = if pick & 4 == 0 {
        FcsKind::Fcs16
    } else {
        FcsKind::Fcs32
    };
    let mru = if pick & 8 == 0 { 1500 } else { 32 };
    let chunk = usize::from(chunk).max(1);

    let fresh = || {
        let mut decoder = Decoder::new(mru);
        decoder.set_accm(ReceiveAccm(accm));
        decoder.set_fcs(fcs);
        decoder
    };
    let mut whole = fresh();
    let mut expected = Vec::new();
    whole.decode(line, &mut expected);
    let mut chunked = fresh();
    let mut frames = Vec::new();
    for piece in line.chunks(chunk) {
        chunked.decode(piece, &mut frames);
    }
    assert_eq!(frames, expected);
    assert_eq!(chunked.stats(), whole.stats());
    assert_eq!(whole.stats().frames, expected.len() as u64);

    // Round trip: the sender escapes every control character the receiver may discard.
    let encoder = Encoder {
        accm: TransmitAccm::from_async_map(accm),
        fcs,
        ..Encoder::default()
    };
    let information = &line[..line.len().min(usize::from(mru))];
    let wire = encoder.encode(Protocol::IPV4, information);
    let mut decoder = fresh();
    let mut frames = Vec::new();
    for piece in wire.chunks(chunk) {
        decoder.decode(piece, &mut frames);
    }
    assert_eq!(
        frames,
        vec![Frame {
            protocol: Protocol::IPV4,
            information: information.to_vec()
        }]
    );
});
