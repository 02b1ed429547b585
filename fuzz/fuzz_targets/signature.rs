//! (a) Zoom's webhook signature: `SignatureVerifier::verify` with any timestamp and signature
//! headers and any body, and what the gate does next with a verified body (the envelope, the
//! URL challenge).
//!
//! Input: `flags (1 byte) | skew (i16 LE, seconds) | timestamp header \n signature header \n body`,
//! so that a seed is a readable request. Flags: 0x01 no timestamp header, 0x02 no signature
//! header, 0x04 sign the body correctly with token `(flags >> 3) & 3` (over the timestamp
//! header as sent), 0x20 a replay window of 0 s, 0x40 `now` far from the timestamp.
//! `now` is the timestamp header's time plus the skew.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use zcc_domain::challenge;
use zcc_domain::event::AuthenticEvent;
use zcc_domain::signature::{SecretTokens, SignatureError, SignatureVerifier};
use zcc_domain::timestamp::Timestamp;

/// Three tokens (a rotation), one of them the secret of Zoom's published test vector.
const TOKENS: [&str; 3] = ["zcc-fuzz-old", "zcc-fuzz-new", "4fv1RkqGQUq5sWbEz6hA5A"];

fn hmac_hex(token: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let skew = data
        .get(1..3)
        .map_or(0, |b| i16::from_le_bytes([b[0], b[1]]));
    let rest = data.get(3..).unwrap_or(&[]);
    let (ts_line, rest) = split_line(rest);
    let (sig_line, body) = split_line(rest);
    // Header values reach the verifier as text (lambda_http's to_str); others are absent.
    let ts_header = std::str::from_utf8(ts_line)
        .ok()
        .filter(|_| flags & 0x01 == 0);
    let mut sig_header = std::str::from_utf8(sig_line)
        .ok()
        .filter(|_| flags & 0x02 == 0)
        .map(str::to_owned);
    let token_index = usize::from((flags >> 3) & 3) % TOKENS.len();
    if flags & 0x04 != 0 {
        let ts = ts_header.map(str::trim).unwrap_or_default();
        sig_header = Some(format!("v0={}", hmac_hex(TOKENS[token_index], ts, body)));
    }
    let tolerance = if flags & 0x20 != 0 { 0 } else { 300 };
    let verifier = SignatureVerifier::new(
        SecretTokens::from_list(&TOKENS.join(",")).expect("tokens"),
        tolerance,
    );
    let ts_seconds: Option<i64> = ts_header
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok());
    let skew_secs = if flags & 0x40 != 0 {
        i64::from(skew) * 1_000_000
    } else {
        i64::from(skew)
    };
    let now_secs = ts_seconds
        .unwrap_or(1_720_705_455)
        .saturating_add(skew_secs);
    let now = Timestamp::from_unix_millis(now_secs.saturating_mul(1000));

    let result = verifier.verify(ts_header, sig_header.as_deref(), body, now);
    match &result {
        Ok(verified) => {
            let ts = ts_header.expect("verified without a timestamp").trim();
            let seconds = ts_seconds.expect("verified with a timestamp that is not Unix seconds");
            assert!(
                now.unix_seconds().abs_diff(seconds) <= tolerance,
                "verified outside the window"
            );
            assert_eq!(verified.body(), body);
            assert_eq!(
                verified.signed_at(),
                Timestamp::from_unix_millis(seconds.saturating_mul(1000))
            );
            // The signature is the HMAC of the token that the verifier says verified it.
            let token = verified.token().expose();
            assert!(TOKENS.contains(&token));
            let offered = sig_header.as_deref().unwrap_or_default().trim();
            let offered = offered.strip_prefix("v0=").expect("verified without v0=");
            assert_eq!(offered.to_ascii_lowercase(), hmac_hex(token, ts, body));
            // What the gate does with a verified body must not panic either.
            let _ = AuthenticEvent::from_webhook(verified, now).map(|e| e.stamp());
            let _ = challenge::answer(verified);
        }
        Err(err) => {
            let _ = (err.code(), err.to_string());
            if let SignatureError::OutsideWindow(skew) = err {
                let seconds = ts_seconds.expect("a window judged without a timestamp");
                assert_eq!(*skew, now.unix_seconds().saturating_sub(seconds));
                assert!(skew.unsigned_abs() > tolerance);
            }
        }
    }
    // A body signed correctly, with a timestamp inside the window, always verifies.
    let in_window = ts_seconds.is_some_and(|s| now.unix_seconds().abs_diff(s) <= tolerance);
    if flags & 0x04 != 0 && in_window {
        let verified = result.expect("a correct signature inside the window was refused");
        assert_eq!(verified.token().expose(), TOKENS[token_index]);
    }
});
