//! VRRPv2 authentication (RFC 2338 §5.3.6, kept by keepalived after RFC 3768 dropped it):
//! type 0 none, type 1 simple text password, type 2 IPsec AH with HMAC-MD5-96.
//!
//! The AH flavour follows keepalived 2.2.7 byte for byte (`vrrp_build_ipsecah`,
//! `vrrp_update_pkt`, `vrrp_in_chk_ipsecah`), since interop with it is the point:
//! - the AH header (RFC 2402 §2) sits between the IPv4 header and the VRRP message: next
//!   header 112, payload length 4 (a 96-bit ICV), SPI = the sender's IPv4 address,
//!   a sequence number that starts at 1 and grows by one per advert;
//! - the ICV is the first 12 bytes of HMAC-MD5 (RFC 2104, RFC 2403) keyed with the 8-byte
//!   password, over the IPv4 header with TOS, flags/fragment offset and header checksum set
//!   to zero (and TTL too when unicasting), then the AH header with a zero ICV, then the
//!   VRRP message.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::constants::IPPROTO_VRRP;
use super::error::{Error, Layer, need};

/// VRRPv2 authentication type numbers (RFC 2338 §5.3.6).
pub const AUTH_NONE: u8 = 0;
pub const AUTH_PASSWORD: u8 = 1;
pub const AUTH_AH: u8 = 2;

/// Length of the VRRPv2 Authentication Data field.
pub const AUTH_DATA_LEN: usize = 8;

/// The 8-byte secret of VRRPv2 authentication. keepalived copies at most 8 bytes of the
/// configured `auth_pass` and pads with zeros; the same 8 bytes key the AH HMAC.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuthKey([u8; AUTH_DATA_LEN]);

impl AuthKey {
    /// keepalived's rule: truncate to 8 bytes, pad with zeros.
    pub fn from_password(password: &[u8]) -> Self {
        let mut key = [0u8; AUTH_DATA_LEN];
        for (slot, byte) in key.iter_mut().zip(password) {
            *slot = *byte;
        }
        Self(key)
    }

    pub const fn from_bytes(bytes: [u8; AUTH_DATA_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; AUTH_DATA_LEN] {
        &self.0
    }

    /// Constant-time comparison, so a prober learns nothing from response timing.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.ct_eq(other).into()
    }
}

impl fmt::Debug for AuthKey {
    // Secrets stay out of logs and recorded inputs' debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(..)")
    }
}

/// The authentication of a VRRPv2 advert: what a packet carries once verified, and what an
/// instance sends or expects. VRRPv3 has none (RFC 5798 §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Auth {
    #[default]
    None,
    /// Type 1: the key travels in clear in the Authentication Data field.
    Password(AuthKey),
    /// Type 2: an IPsec AH header with an HMAC-MD5-96 ICV keyed by this key; the VRRP
    /// Authentication Data field is zero.
    Ah(AuthKey),
}

impl Auth {
    pub const fn type_number(&self) -> u8 {
        match self {
            Auth::None => AUTH_NONE,
            Auth::Password(_) => AUTH_PASSWORD,
            Auth::Ah(_) => AUTH_AH,
        }
    }
}

/// HMAC-MD5 output length and the 96-bit truncation AH carries (RFC 2403 §2).
pub const HMAC_MD5_LEN: usize = 16;
pub const ICV_LEN: usize = 12;
/// The AH header as keepalived sends it: 12 fixed bytes and a 12-byte ICV.
pub const AH_HEADER_LEN: usize = 24;
/// AH Payload Length for a 96-bit ICV: header length in 32-bit words minus 2 (RFC 2402 §2.2).
pub const AH_PAYLOAD_LEN: u8 = 4;

const MD5_BLOCK: usize = 64;

/// An HMAC-MD5 computation over several slices, infallible by construction: RFC 2104 §2
/// zero-pads short keys to the block size and hashes long ones first, so the fixed-size
/// key initialiser takes any key.
pub struct HmacMd5(Hmac<Md5>);

impl HmacMd5 {
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; MD5_BLOCK];
        if key.len() > MD5_BLOCK {
            let digest: [u8; HMAC_MD5_LEN] = Md5::digest(key).into();
            block[..HMAC_MD5_LEN].copy_from_slice(&digest);
        } else {
            for (slot, byte) in block.iter_mut().zip(key) {
                *slot = *byte;
            }
        }
        Self(<Hmac<Md5> as KeyInit>::new(&block.into()))
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finalize(self) -> [u8; HMAC_MD5_LEN] {
        self.0.finalize().into_bytes().into()
    }

    /// Constant-time check of a truncated tag against the leftmost bytes of the HMAC.
    pub fn verify_truncated(self, tag: &[u8]) -> bool {
        self.0.verify_truncated_left(tag).is_ok()
    }
}

/// The fixed part of an AH header (RFC 2402 §2), as parsed from a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AhHeader {
    pub next_header: u8,
    pub spi: u32,
    pub sequence: u32,
    pub icv: [u8; ICV_LEN],
}

impl AhHeader {
    /// Parses the 24-byte header keepalived emits; other ICV sizes are refused.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        need(Layer::Ah, buf, AH_HEADER_LEN)?;
        let mut fixed = [0u8; AH_HEADER_LEN];
        fixed.copy_from_slice(buf.get(..AH_HEADER_LEN).unwrap_or(&[0; AH_HEADER_LEN]));
        let [
            next_header,
            payload_len,
            _,
            _,
            s0,
            s1,
            s2,
            s3,
            q0,
            q1,
            q2,
            q3,
            icv @ ..,
        ] = fixed;
        if payload_len != AH_PAYLOAD_LEN {
            return Err(Error::BadAhHeader(
                format!("payload length {payload_len}, HMAC-MD5-96 needs {AH_PAYLOAD_LEN}").into(),
            ));
        }
        if next_header != IPPROTO_VRRP {
            return Err(Error::BadAhHeader(
                format!("next header {next_header} is not VRRP (112)").into(),
            ));
        }
        Ok(Self {
            next_header,
            spi: u32::from_be_bytes([s0, s1, s2, s3]),
            sequence: u32::from_be_bytes([q0, q1, q2, q3]),
            icv,
        })
    }

    /// Writes the header with the given ICV; `buf` must hold `AH_HEADER_LEN` bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        super::error::room(buf, AH_HEADER_LEN)?;
        let mut out = [0u8; AH_HEADER_LEN];
        out[0] = self.next_header;
        out[1] = AH_PAYLOAD_LEN;
        out[4..8].copy_from_slice(&self.spi.to_be_bytes());
        out[8..12].copy_from_slice(&self.sequence.to_be_bytes());
        out[12..].copy_from_slice(&self.icv);
        if let Some(dst) = buf.get_mut(..AH_HEADER_LEN) {
            dst.copy_from_slice(&out);
        }
        Ok(())
    }
}

/// Offsets inside an IPv4 header of the fields AH treats as mutable (RFC 2402 §3.3.3.1.1.1),
/// zeroed before the ICV is computed, as keepalived does.
const IP_TOS: usize = 1;
const IP_FRAG: std::ops::Range<usize> = 6..8;
const IP_TTL: usize = 8;
const IP_CHECKSUM: std::ops::Range<usize> = 10..12;
const MAX_IP_HEADER: usize = 60;

/// Computes the HMAC-MD5 over `ip_header` (with mutable fields zeroed), `ah` (with the ICV
/// zeroed) and `vrrp`, and returns the keyed MAC ready to finalise or verify.
fn ah_mac(key: &AuthKey, ip_header: &[u8], ah: &[u8], vrrp: &[u8], zero_ttl: bool) -> HmacMd5 {
    let mut ip = [0u8; MAX_IP_HEADER];
    let ip_len = ip_header.len().min(MAX_IP_HEADER);
    if let (Some(dst), Some(src)) = (ip.get_mut(..ip_len), ip_header.get(..ip_len)) {
        dst.copy_from_slice(src);
    }
    ip[IP_TOS] = 0;
    ip[IP_FRAG].fill(0);
    ip[IP_CHECKSUM].fill(0);
    if zero_ttl {
        // keepalived zeroes the TTL only for unicast peers, where routers may decrement it.
        ip[IP_TTL] = 0;
    }
    let mut ah_copy = [0u8; AH_HEADER_LEN];
    let ah_len = ah.len().min(AH_HEADER_LEN);
    if let (Some(dst), Some(src)) = (ah_copy.get_mut(..ah_len), ah.get(..ah_len)) {
        dst.copy_from_slice(src);
    }
    ah_copy[12..].fill(0);

    let mut mac = HmacMd5::new(key.as_bytes());
    mac.update(ip.get(..ip_len).unwrap_or(&[]));
    mac.update(&ah_copy);
    mac.update(vrrp);
    mac
}

/// The 96-bit ICV for an outgoing datagram made of `ip_header`, `ah` and `vrrp`.
pub fn ah_icv(
    key: &AuthKey,
    ip_header: &[u8],
    ah: &[u8],
    vrrp: &[u8],
    zero_ttl: bool,
) -> [u8; ICV_LEN] {
    let full = ah_mac(key, ip_header, ah, vrrp, zero_ttl).finalize();
    let mut icv = [0u8; ICV_LEN];
    icv.copy_from_slice(&full[..ICV_LEN]);
    icv
}

/// Verifies, in constant time, the ICV carried in `ah` against the datagram.
pub fn ah_verify(key: &AuthKey, ip_header: &[u8], ah: &[u8], vrrp: &[u8], zero_ttl: bool) -> bool {
    let Some(icv) = ah.get(12..AH_HEADER_LEN) else {
        return false;
    };
    ah_mac(key, ip_header, ah, vrrp, zero_ttl).verify_truncated(icv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = HmacMd5::new(key);
        mac.update(data);
        mac.finalize().to_vec()
    }

    // RFC 2202 §2: the seven HMAC-MD5 test cases.
    #[test]
    fn rfc2202_hmac_md5_vectors() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
            (
                vec![0x0b; 16],
                b"Hi There".to_vec(),
                "9294727a3638bb1c13f48ef8158bfc9d",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "750c783e6ab0b503eaa86e310a5db738",
            ),
            (
                vec![0xaa; 16],
                vec![0xdd; 50],
                "56be34521d144c88dbb8c733f0e8b3f6",
            ),
            (
                (1..=25).collect(),
                vec![0xcd; 50],
                "697eaf0aca3a3aea3a75164746ffaa79",
            ),
            (
                vec![0x0c; 16],
                b"Test With Truncation".to_vec(),
                "56461ef2342edc00f9bab995690efd4c",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
                    .to_vec(),
                "6f630fad67cda0ee1fb1f562db3aa53e",
            ),
        ];
        for (i, (key, data, digest)) in cases.iter().enumerate() {
            assert_eq!(
                hmac(key, data),
                hex(digest),
                "RFC 2202 HMAC-MD5 case {}",
                i + 1
            );
        }
    }

    #[test]
    fn rfc2202_truncated_case_verifies_96_bits() {
        // RFC 2202 case 5 lists the 96-bit truncation 56461ef2342edc00f9bab995.
        let mut mac = HmacMd5::new(&[0x0c; 16]);
        mac.update(b"Test With Truncation");
        assert!(mac.verify_truncated(&hex("56461ef2342edc00f9bab995")));
        let mut mac = HmacMd5::new(&[0x0c; 16]);
        mac.update(b"Test With Truncation");
        assert!(!mac.verify_truncated(&hex("56461ef2342edc00f9bab996")));
    }

    #[test]
    fn password_is_truncated_and_padded_like_keepalived() {
        assert_eq!(AuthKey::from_password(b"abc").as_bytes(), b"abc\0\0\0\0\0");
        assert_eq!(
            AuthKey::from_password(b"0123456789").as_bytes(),
            b"01234567"
        );
        assert!(AuthKey::from_password(b"abc").ct_eq(b"abc\0\0\0\0\0"));
        assert!(!AuthKey::from_password(b"abc").ct_eq(b"abd\0\0\0\0\0"));
        assert_eq!(
            format!("{:?}", AuthKey::from_password(b"secret")),
            "AuthKey(..)"
        );
    }

    #[test]
    fn ah_header_parse_emit() {
        let bytes = [
            112, 4, 0, 0, 192, 0, 2, 1, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        ];
        let ah = AhHeader::parse(&bytes).unwrap();
        assert_eq!(ah.spi, 0xc000_0201);
        assert_eq!(ah.sequence, 7);
        assert_eq!(ah.icv, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let mut out = vec![0xa5; AH_HEADER_LEN];
        ah.emit(&mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn ah_header_errors() {
        let mut bytes = [
            112u8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert!(matches!(
            AhHeader::parse(&bytes[..23]),
            Err(Error::TooShort {
                what: Layer::Ah,
                ..
            })
        ));
        bytes[1] = 6;
        assert!(matches!(
            AhHeader::parse(&bytes),
            Err(Error::BadAhHeader(_))
        ));
        bytes[1] = 4;
        bytes[0] = 17;
        assert!(matches!(
            AhHeader::parse(&bytes),
            Err(Error::BadAhHeader(_))
        ));
    }

    #[test]
    fn icv_ignores_mutable_fields_and_covers_the_rest() {
        let key = AuthKey::from_password(b"secret");
        let ip = hex("45c0003c0001000040330000c0000201e0000012");
        let ah = hex("70040000c000020100000001000000000000000000000000");
        let vrrp = hex("21010a0102010000c0000264000000000000000000");
        let icv = ah_icv(&key, &ip, &ah, &vrrp, false);
        let mut ah_with_icv = ah.clone();
        ah_with_icv[12..].copy_from_slice(&icv);
        assert!(ah_verify(&key, &ip, &ah_with_icv, &vrrp, false));

        // TOS, fragment field and checksum are mutable: changing them keeps the ICV valid.
        let mut ip_mut = ip.clone();
        ip_mut[1] = 0;
        ip_mut[6] = 0x40;
        ip_mut[10] = 0x12;
        assert!(ah_verify(&key, &ip_mut, &ah_with_icv, &vrrp, false));
        // TTL is covered unless unicast.
        let mut ip_ttl = ip.clone();
        ip_ttl[8] = 254;
        assert!(!ah_verify(&key, &ip_ttl, &ah_with_icv, &vrrp, false));
        let icv_uni = ah_icv(&key, &ip, &ah, &vrrp, true);
        ah_with_icv[12..].copy_from_slice(&icv_uni);
        assert!(ah_verify(&key, &ip_ttl, &ah_with_icv, &vrrp, true));
        // Addresses, the VRRP message and the key are covered.
        let mut vrrp_bad = vrrp.clone();
        vrrp_bad[3] = 99;
        assert!(!ah_verify(&key, &ip_ttl, &ah_with_icv, &vrrp_bad, true));
        assert!(!ah_verify(
            &AuthKey::from_password(b"secreT"),
            &ip_ttl,
            &ah_with_icv,
            &vrrp,
            true
        ));
    }
}
