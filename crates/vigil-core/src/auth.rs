//! Bearer-token checks shared by Vigil's HTTP servers (`exp serve`, `exp serve-env`), following
//! vLLM's convention: with an API key configured, requests must carry
//! `Authorization: Bearer <key>`.

/// Environment variable both servers read their API key from when `--api-key` is not given.
pub const API_KEY_ENV: &str = "VIGIL_API_KEY";

/// Whether an `Authorization` header value carries `key` as a bearer token. The comparison takes
/// the same time wherever the first difference is, so timing does not reveal a prefix.
pub fn bearer_matches(header: Option<&[u8]>, key: &str) -> bool {
    let Some(value) = header else { return false };
    let Some(token) = value.strip_prefix(b"Bearer ") else {
        return false;
    };
    constant_time_eq(token, key.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_must_match_exactly() {
        assert!(bearer_matches(Some(b"Bearer s3cret"), "s3cret"));
        for bad in [&b"Bearer s3cre"[..], b"Bearer s3cret ", b"bearer s3cret", b"s3cret", b"Bearer ", b""] {
            assert!(!bearer_matches(Some(bad), "s3cret"), "{}", String::from_utf8_lossy(bad));
        }
        assert!(!bearer_matches(None, "s3cret"));
    }
}
