//! The MS-CHAPv2 computations (RFC 2759 §8), for both roles, and the CHAP-MD5 response
//! (RFC 1994 §4.1).
//!
//! Names follow the RFC's pseudo-code (`GenerateNTResponse` is [`generate_nt_response`]).
//! Where the RFC passes a password, functions that the authenticator also needs take its NT
//! hash instead, since that is all an authenticator has to keep; the password-taking forms
//! are one [`nt_password_hash`] away.

use des::Des;
use des::cipher::{Array, BlockCipherEncrypt, KeyInit};
use md4::Md4;
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use sha1::{Digest, Sha1};

use crate::random::Random;

/// An NT password hash: MD4 of the password in UTF-16LE (RFC 2759 §8.3).
pub type NtHash = [u8; 16];

/// RFC 2759 §7: the Change-Password packet carries a 516-octet encrypted PW block.
pub const PW_BLOCK_LEN: usize = 516;

/// RFC 2759 §8.10: the block's password area holds at most 256 UTF-16 code units.
const PW_BLOCK_PASSWORD_LEN: usize = 512;

/// RFC 2759 §8.7 Magic1.
const MAGIC_SERVER_TO_CLIENT: &[u8; 39] = b"Magic server to client signing constant";

/// RFC 2759 §8.7 Magic2.
const MAGIC_PAD: &[u8; 41] = b"Pad to make it do more than one iteration";

/// A password change that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordChangeError {
    /// RFC 2759 §8.10: the PW block holds 256 UTF-16 code units at most.
    #[error("the new password is {units} UTF-16 code units long; MS-CHAPv2 carries at most 256")]
    TooLong {
        /// The password's length in UTF-16 code units.
        units: usize,
    },
    /// The decrypted PW block's length field is odd or larger than its password area: the
    /// peer encrypted it with another old password, or it was damaged.
    #[error("the decrypted PW block says the password is {length} octets long")]
    BadBlockLength {
        /// The block's PasswordLength field.
        length: u32,
    },
    /// The decrypted password is not UTF-16.
    #[error("the decrypted password is not valid UTF-16")]
    BadEncoding,
    /// The Encrypted-Hash does not match the old password hash under the new one
    /// (RFC 2759 §8.12): the peer does not know the old password.
    #[error("the Encrypted-Hash does not prove knowledge of the old password")]
    WrongOldPassword,
}

/// RFC 1994 §4.1 with the MD5 algorithm (RFC 1994 §2.2, RFC 1321): the Response value is
/// MD5 over the Identifier, the secret and the Challenge value.
pub fn chap_md5_response(identifier: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update([identifier])
        .chain_update(secret)
        .chain_update(challenge)
        .finalize()
        .into()
}

/// RFC 2759 §8.2: only the user name, without a prepended `DOMAIN\`, enters the hash.
pub fn user_name_without_domain(user_name: &[u8]) -> &[u8] {
    match user_name.iter().rposition(|&octet| octet == b'\\') {
        Some(at) => &user_name[at + 1..],
        None => user_name,
    }
}

/// RFC 2759 §8.1 GenerateNTResponse.
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    password: &str,
) -> [u8; 24] {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    challenge_response(&challenge, &nt_password_hash(password))
}

/// RFC 2759 §8.2 ChallengeHash: the first 8 octets of SHA-1 over both challenges and the
/// user name (domain removed, [`user_name_without_domain`]).
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let digest = Sha1::new()
        .chain_update(peer_challenge)
        .chain_update(authenticator_challenge)
        .chain_update(user_name_without_domain(user_name))
        .finalize();
    let mut challenge = [0; 8];
    challenge.copy_from_slice(&digest[..8]);
    challenge
}

/// RFC 2759 §8.3 NtPasswordHash: MD4 of the password as UTF-16LE (RFC 2759 §1 "unicode").
pub fn nt_password_hash(password: &str) -> NtHash {
    let mut md4 = Md4::new();
    for unit in password.encode_utf16() {
        md4.update(unit.to_le_bytes());
    }
    md4.finalize().into()
}

/// RFC 2759 §8.4 HashNtPasswordHash.
pub fn hash_nt_password_hash(password_hash: &NtHash) -> NtHash {
    Md4::digest(password_hash).into()
}

/// RFC 2759 §8.5 ChallengeResponse: the hash, zero-padded to 21 octets, is three DES keys
/// that each encrypt the challenge.
pub fn challenge_response(challenge: &[u8; 8], password_hash: &NtHash) -> [u8; 24] {
    let mut keys = [0u8; 21];
    keys[..16].copy_from_slice(password_hash);
    let mut response = [0; 24];
    for (out, key) in response.chunks_exact_mut(8).zip(keys.chunks_exact(7)) {
        out.copy_from_slice(&des_encrypt(challenge, key));
    }
    response
}

/// RFC 2759 §8.6 DesEncrypt: DES-ECB of one block under a 7-octet key.
fn des_encrypt(clear: &[u8; 8], key: &[u8]) -> [u8; 8] {
    let cipher = Des::new(&Array::from(expand_des_key(key)));
    let mut block = Array::from(*clear);
    cipher.encrypt_block(&mut block);
    block.into()
}

/// RFC 2759 §8.6 (after RFC 2433 §A.5 DesEncrypt): spread 56 key bits over eight octets,
/// seven bits each in the high bits, and set the low bit of each for odd parity (FIPS 46-3
/// §3; DES ignores it, but this is the key as the RFC writes it). `key` has 7 octets.
fn expand_des_key(key: &[u8]) -> [u8; 8] {
    let bits = key
        .iter()
        .take(7)
        .fold(0u64, |bits, &octet| (bits << 8) | u64::from(octet));
    std::array::from_fn(|i| {
        // Octet i takes bits 55-7i down to 49-7i of the 56-bit key.
        let seven = ((bits >> (49 - 7 * i)) & 0x7F) as u8;
        let high = seven << 1;
        high | u8::from(high.count_ones().is_multiple_of(2))
    })
}

/// RFC 2759 §8.7 GenerateAuthenticatorResponse, from the NT hash of the password; the
/// 20-octet digest, which goes on the wire as `S=` and 40 uppercase hex digits.
pub fn generate_authenticator_response(
    password_hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 20] {
    let password_hash_hash = hash_nt_password_hash(password_hash);
    let digest = Sha1::new()
        .chain_update(password_hash_hash)
        .chain_update(nt_response)
        .chain_update(MAGIC_SERVER_TO_CLIENT)
        .finalize();
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    Sha1::new()
        .chain_update(digest)
        .chain_update(challenge)
        .chain_update(MAGIC_PAD)
        .finalize()
        .into()
}

/// RFC 2759 §8.8 CheckAuthenticatorResponse: what the server sent equals what it should
/// have (compared without an early exit).
pub fn check_authenticator_response(
    password: &str,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
    received: &[u8; 20],
) -> bool {
    let expected = generate_authenticator_response(
        &nt_password_hash(password),
        nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    );
    expected
        .iter()
        .zip(received)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// RFC 2759 §8.9 NewPasswordEncryptedWithOldNtPasswordHash.
pub fn new_password_encrypted_with_old_nt_password_hash(
    new_password: &str,
    old_password: &str,
    random: &mut Random,
) -> Result<[u8; PW_BLOCK_LEN], PasswordChangeError> {
    encrypt_pw_block_with_password_hash(new_password, &nt_password_hash(old_password), random)
}

/// RFC 2759 §8.10 EncryptPwBlockWithPasswordHash: the password right-aligned in a 512-octet
/// area of random fill, its length in octets as a little-endian u32 after it (the RFC's
/// structure as laid out on x86), all RC4-encrypted under the hash.
pub fn encrypt_pw_block_with_password_hash(
    password: &str,
    password_hash: &NtHash,
    random: &mut Random,
) -> Result<[u8; PW_BLOCK_LEN], PasswordChangeError> {
    let unicode: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
    if unicode.len() > PW_BLOCK_PASSWORD_LEN {
        return Err(PasswordChangeError::TooLong {
            units: unicode.len() / 2,
        });
    }
    let mut block = [0; PW_BLOCK_LEN];
    random.fill(&mut block[..PW_BLOCK_PASSWORD_LEN]);
    block[PW_BLOCK_PASSWORD_LEN - unicode.len()..PW_BLOCK_PASSWORD_LEN].copy_from_slice(&unicode);
    // At most 512, so it fits.
    let length = unicode.len() as u32;
    block[PW_BLOCK_PASSWORD_LEN..].copy_from_slice(&length.to_le_bytes());
    rc4(password_hash, &mut block);
    Ok(block)
}

/// The authenticator's inverse of [`encrypt_pw_block_with_password_hash`] (RFC 2759 §7: it
/// decrypts the block with the stored hash of the old password).
pub fn decrypt_pw_block_with_password_hash(
    encrypted: &[u8; PW_BLOCK_LEN],
    password_hash: &NtHash,
) -> Result<String, PasswordChangeError> {
    let mut block = *encrypted;
    rc4(password_hash, &mut block);
    let mut length = [0; 4];
    length.copy_from_slice(&block[PW_BLOCK_PASSWORD_LEN..]);
    let length = u32::from_le_bytes(length);
    let octets = usize::try_from(length)
        .ok()
        .filter(|&octets| octets <= PW_BLOCK_PASSWORD_LEN && octets.is_multiple_of(2))
        .ok_or(PasswordChangeError::BadBlockLength { length })?;
    let units: Vec<u16> = block[PW_BLOCK_PASSWORD_LEN - octets..PW_BLOCK_PASSWORD_LEN]
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| PasswordChangeError::BadEncoding)
}

/// RFC 2759 §8.12 OldNtPasswordHashEncryptedWithNewNtPasswordHash.
pub fn old_nt_password_hash_encrypted_with_new_nt_password_hash(
    new_password: &str,
    old_password: &str,
) -> [u8; 16] {
    nt_password_hash_encrypted_with_block(
        &nt_password_hash(old_password),
        &nt_password_hash(new_password),
    )
}

/// RFC 2759 §8.13 NtPasswordHashEncryptedWithBlock: each half of the hash DES-encrypted
/// under seven octets of the block.
pub fn nt_password_hash_encrypted_with_block(password_hash: &NtHash, block: &NtHash) -> [u8; 16] {
    let mut out = [0; 16];
    for (i, half) in out.chunks_exact_mut(8).enumerate() {
        let mut clear = [0; 8];
        clear.copy_from_slice(&password_hash[8 * i..8 * i + 8]);
        half.copy_from_slice(&des_encrypt(&clear, &block[7 * i..7 * i + 7]));
    }
    out
}

/// What the authenticator learns from a valid Change-Password (RFC 2759 §7): the new
/// password, once the PW block decrypts under the old hash and the Encrypted-Hash matches.
pub fn recover_new_password(
    encrypted_password: &[u8; PW_BLOCK_LEN],
    encrypted_hash: &[u8; 16],
    old_password_hash: &NtHash,
) -> Result<String, PasswordChangeError> {
    let new_password = decrypt_pw_block_with_password_hash(encrypted_password, old_password_hash)?;
    let expected =
        nt_password_hash_encrypted_with_block(old_password_hash, &nt_password_hash(&new_password));
    if &expected != encrypted_hash {
        return Err(PasswordChangeError::WrongOldPassword);
    }
    Ok(new_password)
}

/// RFC 2759 §8.10 Rc4Encrypt, in place (RC4 is its own inverse).
fn rc4(key: &NtHash, data: &mut [u8]) {
    // rc4 takes keys of 1 to 256 octets; ours is always 16.
    let mut cipher = Rc4::new_from_slice(key).expect("a 16-octet RC4 key is valid");
    cipher.apply_keystream(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn array<const N: usize>(text: &str) -> [u8; N] {
        hex(text).try_into().unwrap()
    }

    /// RFC 2759 §9.2 "Hash Example", every value in it.
    #[test]
    fn rfc_2759_section_9_2_example() {
        let user_name = b"User";
        assert_eq!(user_name.to_vec(), hex("55 73 65 72"));
        let password = "clientPass";
        let unicode: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            unicode,
            hex("63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00")
        );
        let authenticator_challenge: [u8; 16] =
            array("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28");
        let peer_challenge: [u8; 16] = array("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E");

        let challenge = challenge_hash(&peer_challenge, &authenticator_challenge, user_name);
        assert_eq!(challenge, array::<8>("D0 2E 43 86 BC E9 12 26"));

        let password_hash = nt_password_hash(password);
        assert_eq!(
            password_hash,
            array::<16>("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
        );

        let nt_response = generate_nt_response(
            &authenticator_challenge,
            &peer_challenge,
            user_name,
            password,
        );
        assert_eq!(
            nt_response,
            array::<24>("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
        );
        assert_eq!(challenge_response(&challenge, &password_hash), nt_response);

        assert_eq!(
            hash_nt_password_hash(&password_hash),
            array::<16>("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
        );

        let authenticator_response = generate_authenticator_response(
            &password_hash,
            &nt_response,
            &peer_challenge,
            &authenticator_challenge,
            user_name,
        );
        assert_eq!(
            crate::wire::chap::AuthenticatorResponse(authenticator_response).to_string(),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
        assert!(check_authenticator_response(
            password,
            &nt_response,
            &peer_challenge,
            &authenticator_challenge,
            user_name,
            &authenticator_response
        ));
        let mut forged = authenticator_response;
        forged[19] ^= 1;
        assert!(!check_authenticator_response(
            password,
            &nt_response,
            &peer_challenge,
            &authenticator_challenge,
            user_name,
            &forged
        ));
        // RFC 2759 §8.2: a domain in front of the name does not enter the hash.
        assert_eq!(
            challenge_hash(&peer_challenge, &authenticator_challenge, b"CORP\\User"),
            challenge
        );
    }

    /// PEAR Crypt_CHAP's published CHAP-MD5 vectors (tests/chaptest.php): Identifier 1,
    /// Challenge 102DB5DF085D3041. RFC 1994 itself has no numeric example; these were also
    /// checked against Python's hashlib.md5 of the same octets.
    #[test]
    fn chap_md5_published_vectors() {
        let challenge = hex("102DB5DF085D3041");
        assert_eq!(
            chap_md5_response(1, b"MyPw", &challenge),
            array::<16>("8f028814450d66d94c72331ef455a172")
        );
        assert_eq!(
            chap_md5_response(1, b"sepp", &challenge),
            array::<16>("d39bfaf5d6855a948c8c81a85947502c")
        );
    }

    #[test]
    fn des_keys_get_odd_parity() {
        assert_eq!(expand_des_key(&[0xFF; 7]), [0xFE; 8]);
        assert_eq!(expand_des_key(&[0; 7]), [0x01; 8]);
        for octet in expand_des_key(&[0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE]) {
            assert_eq!(octet.count_ones() % 2, 1);
        }
    }

    #[test]
    fn change_password_round_trip() {
        let mut random = Random::seeded(3);
        let block =
            new_password_encrypted_with_old_nt_password_hash("n3w-pässword", "old", &mut random)
                .unwrap();
        let hash = old_nt_password_hash_encrypted_with_new_nt_password_hash("n3w-pässword", "old");
        assert_eq!(
            recover_new_password(&block, &hash, &nt_password_hash("old")),
            Ok("n3w-pässword".to_owned())
        );
        // Somebody who does not know the old password cannot change it.
        assert!(recover_new_password(&block, &hash, &nt_password_hash("other")).is_err());
        let forged = old_nt_password_hash_encrypted_with_new_nt_password_hash("n3w-pässword", "x");
        assert_eq!(
            recover_new_password(&block, &forged, &nt_password_hash("old")),
            Err(PasswordChangeError::WrongOldPassword)
        );
        // The right-aligned password sits after random fill, not zeros.
        let mut clear = block;
        rc4(&nt_password_hash("old"), &mut clear);
        assert_ne!(clear[..16], [0; 16]);
        assert_eq!(clear[512..], 24u32.to_le_bytes());
    }

    #[test]
    fn passwords_longer_than_the_block_are_refused() {
        let long = "x".repeat(257);
        assert_eq!(
            new_password_encrypted_with_old_nt_password_hash(&long, "old", &mut Random::seeded(1)),
            Err(PasswordChangeError::TooLong { units: 257 })
        );
        let longest = "x".repeat(256);
        let block = new_password_encrypted_with_old_nt_password_hash(
            &longest,
            "old",
            &mut Random::seeded(1),
        )
        .unwrap();
        assert_eq!(
            decrypt_pw_block_with_password_hash(&block, &nt_password_hash("old")),
            Ok(longest)
        );
    }

    proptest! {
        #[test]
        fn random_passwords_round_trip(
            old in "\\PC{0,40}",
            new in "\\PC{0,256}",
            seed in any::<u64>(),
        ) {
            prop_assume!(new.encode_utf16().count() <= 256);
            let mut random = Random::seeded(seed);
            let block = new_password_encrypted_with_old_nt_password_hash(&new, &old, &mut random)
                .unwrap();
            let hash = old_nt_password_hash_encrypted_with_new_nt_password_hash(&new, &old);
            prop_assert_eq!(
                recover_new_password(&block, &hash, &nt_password_hash(&old)),
                Ok(new)
            );
        }

        #[test]
        fn any_pw_block_decrypts_or_fails_cleanly(
            block in proptest::collection::vec(any::<u8>(), PW_BLOCK_LEN),
            key in any::<[u8; 16]>(),
        ) {
            let block: [u8; PW_BLOCK_LEN] = block.try_into().unwrap();
            let _ = decrypt_pw_block_with_password_hash(&block, &key);
        }
    }
}
