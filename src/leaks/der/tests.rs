//! Keys made for these tests (Python `cryptography`, thrown away): each format is found at its
//! exact place and its near misses are not.

use super::*;

const ED25519_PKCS8: &str = "302e020100300506032b65700422042090b74a705c8da887549288f38bfebf7d5ec95dbbeab2bc8520c66d4dca7aa54d";
const EC_SEC1: &str = "30770201010420ad3ab86431a7fdd73b6e0f69bc0e460c55d8d3217ccecdd69a5614586c7fe88ba00a06082a8648ce3d030107a1440342000485965bc75e410b01984d4aa9b000300e3a659b172dbf95ffae130144974c386016787f23797d311f7d44cdb676e1b87a81e445a1f57b7bb5b3484b9f96e20c76";
const EC_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420ad3ab86431a7fdd73b6e0f69bc0e460c55d8d3217ccecdd69a5614586c7fe88ba1440342000485965bc75e410b01984d4aa9b000300e3a659b172dbf95ffae130144974c386016787f23797d311f7d44cdb676e1b87a81e445a1f57b7bb5b3484b9f96e20c76";
const RSA_PKCS1: &str = "3082025c02010002818100a51b21734aafd9c1c5098694f0b3a38a39ce5ffb2a62affb2cd3848df789bccc7282e3b2ad532cb3146f68b13ca81ee41bc66caf0b673ac5472b58cf02603e55f95524047ea81c3663cd2617c00056fd3df2c1c9f3cbbae7b8be416ba585808f454e8a0be73ae3f609f3a6effc001c1a836c9ab6f31514e3dbd010427af39a750203010001028180688e1bcac4fb436cdff83e4fc7761b1487b2d739590811e57fe79ac3c48467191953261a9a8457843866ace7c03fbf00394e98b8e901c047f9dfcb679c5b925d1e9e85baed460785a611dd6bb126287b7a15d8482e7fb2877f92ec3b44ccc260355058f650213f7f6d0e3d89f16a088759ca2dc29dcc0e7c0d869e35b6a42601024100da87613b2a717cf55ac56b38886edbc23a52ca7a65d09cb7a4ea364b3cbc81566c5d0a0dc0fecb0eda02d4dfe379b30b87a538576fb7d4a917efde1bc2d86c41024100c16aaea8004e218b6433aa0f470d4548bdd0bb21c4a22d08ac5851c0dad3705e6a2e3843471d6b065263114cc968da144f9f513858bfbbc4e65403d6473cf135024035aca4dc246ba5969a09fd70f049d25e5d76f256a7e55a68dcefce1022c5e63ab4f9113c19983b85d55476b6db278c2b9bd0a00b11dca4363833e969062da441024100ae25e01c6429f50a0cae77f049892958d58f9aee4c9db8ee963eef5d35aa2b02d797c610cd772f6601c8314b720d764dd3631f3e1caa85e6437c61f80d2c520102406f09c4acc452a49e0c82f9336962c823b579514705d0e109bebaffbb656ec29ffdaf7d8a095ae58a0b683e3c265a144f0bc38a958eb74bbeb086705c0f2830db";
const RSA_PKCS8_HEAD: &str = "30820276020100300d06092a864886f70d0101010500048202603082025c";
const PFX: &str = "308201420201033081f906092a864886f70d010701a081eb0481e83081e53081e206092a864886f70d010701a081d40481d13081ce3081cb060b2a864886f70d010c0a0102a081a63081a3305f06092a864886f70d01050d3052303106092a864886f70d01050c30240410527f9c234ffa49e7644c83a7446fc7b202024e20300c06082a864886f70d02090500301d060960864801650304012a04105f3e23718d2cd6399f05d21918e0544104407413cc93b3d4942999deabb1c4a06af9c8b5492f303086adcd0e91d89b490b3f466c23f157616668e1c0b0dd9621e85907d5ff286fdee583225fbccb9a2c2e7d3113301106092a864886f70d01091431041e02007430413031300d0609608648016503040201050004208bbed4f004e289f355e71463b5f31d8a8ce7ad01edad77ab9cccea78929805c104084d2314656ccd654302020800";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn rsa_pkcs8() -> Vec<u8> {
    // The same RSA key wrapped in PrivateKeyInfo (the head replaces PKCS#1's own header).
    let mut b = h(RSA_PKCS8_HEAD);
    b.extend_from_slice(&h(RSA_PKCS1)[4..]);
    b
}

#[test]
fn each_format_is_recognised_as_what_it_is() {
    let cases = [
        (
            h(ED25519_PKCS8),
            DerKind::PrivateKey,
            "PKCS#8 Ed25519 private key",
        ),
        (h(EC_SEC1), DerKind::PrivateKey, "SEC 1 EC private key"),
        (h(EC_PKCS8), DerKind::PrivateKey, "PKCS#8 EC private key"),
        (h(RSA_PKCS1), DerKind::PrivateKey, "PKCS#1 RSA private key"),
        (rsa_pkcs8(), DerKind::PrivateKey, "PKCS#8 RSA private key"),
        (h(PFX), DerKind::Pkcs12, "PKCS#12 (PFX)"),
    ];
    for (b, kind, what) in cases {
        assert_eq!(classify(&b), Some(Structure { kind, what }), "{what}");
    }
}

#[test]
fn keys_are_found_at_their_offset_inside_other_bytes() {
    let mut hay = b"\x00\x01 some header 0\x30\x30\x02\x01\x00junk".to_vec();
    let at = hay.len();
    let key = rsa_pkcs8();
    hay.extend_from_slice(&key);
    hay.extend_from_slice(b"\x30\x05\x02\x01\x00\xff\xfe tail");
    let at2 = hay.len();
    hay.extend_from_slice(&h(PFX));
    let found = find(&hay);
    // The RSA key inside the PKCS#8 wrapper is not reported a second time.
    let ranges: Vec<_> = found.iter().map(|(r, s)| (r.clone(), s.kind)).collect();
    assert_eq!(
        ranges,
        vec![
            (at..at + key.len(), DerKind::PrivateKey),
            (at2..at2 + h(PFX).len(), DerKind::Pkcs12)
        ]
    );
}

#[test]
fn near_misses_are_not_keys() {
    let ed = h(ED25519_PKCS8);
    // One byte short, one byte more, a length off by one.
    assert_eq!(classify(&ed[..ed.len() - 1]), None);
    let mut longer = ed.clone();
    longer.push(0);
    assert_eq!(classify(&longer), None);
    assert!(find(&ed[..ed.len() - 1]).is_empty());
    let mut bad_len = ed.clone();
    bad_len[1] += 1;
    assert!(find(&bad_len).is_empty());
    // An unknown algorithm (the OID's last arc changed to 1.3.101.99).
    let mut other_alg = ed.clone();
    other_alg[11] = 99;
    assert_eq!(classify(&other_alg), None);
    // Ed25519 with a 31-byte key is not Ed25519.
    let mut short_key = h("302d020100300506032b657004210420");
    short_key.extend_from_slice(&[7u8; 31]);
    short_key[1] = (short_key.len() - 2) as u8;
    short_key[15] = 31;
    assert_eq!(classify(&short_key), None);
    // A PFX of version 2, and one whose authSafe is not pkcs7-data.
    let mut v2 = h(PFX);
    v2[6] = 2;
    assert_eq!(classify(&v2), None);
    let mut signed = h(PFX);
    let data_oid = h("2a864886f70d010701");
    let pos = signed.windows(9).position(|w| w == data_oid).unwrap();
    signed[pos + 8] = 2;
    assert_eq!(classify(&signed), None);
    // A bare SEC 1 shape (version 1, 48 bytes) with no curve and no public key.
    let mut bare = h("30350201010430");
    bare.extend_from_slice(&[9u8; 48]);
    assert_eq!(classify(&bare), None);
    bare.extend_from_slice(&[0u8; 8]);
    assert!(find(&bare).is_empty());
    // The same with a P-384 curve named: a key.
    let mut named = h("303e0201010430");
    named.extend_from_slice(&[9u8; 48]);
    named.extend_from_slice(&h("a00706052b81040022"));
    assert_eq!(classify(&named).map(|s| s.kind), Some(DerKind::PrivateKey));
    // A public key (SubjectPublicKeyInfo) and an X.509 certificate's start: no version.
    let spki = h(
        "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    assert!(find(&spki).is_empty());
    // Random bytes and text.
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(find(&noise).is_empty());
    assert!(find(b"0000 0000 00 0.0.0 version 3.0.2.1.0").is_empty());
}

#[test]
fn hostile_lengths_are_bounded() {
    // A header claiming more than the buffer holds, and many candidates that fail late.
    assert!(find(&h("3083ffffff020100")).is_empty());
    let mut many = Vec::new();
    for _ in 0..20_000 {
        many.extend_from_slice(&h("302b020100300506032b6570042204"));
        many.extend_from_slice(&[0u8; 30]);
    }
    assert!(find(&many).is_empty());
}
