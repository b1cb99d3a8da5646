package alien4cloud

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"
	"unicode/utf16"
)

// The Java KeyStore (JKS) format, as sun.security.provider.JavaKeyStore
// writes it: magic 0xFEEDFEED, version 2, the entries, then a SHA-1 over
// the password (UTF-16BE), the words "Mighty Aphrodite" and everything
// before. A private key is protected with the JKS KeyProtector: a SHA-1
// key stream seeded with a random salt, XORed over the PKCS#8 key, and an
// integrity check, wrapped in an EncryptedPrivateKeyInfo of algorithm
// 1.3.6.1.4.1.42.2.17.1.1.

var jksKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

type encryptedPrivateKeyInfo struct {
	Algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	EncryptedData []byte
}

func jksPassword(pw string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(pw)) {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// protectKey applies the JKS KeyProtector to a PKCS#8 key.
func protectKey(plain []byte, password string) ([]byte, error) {
	pw := jksPassword(password)
	salt := make([]byte, sha1.Size)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	out := append([]byte(nil), salt...)
	digest := salt
	for i := 0; i < len(plain); i += sha1.Size {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for j := 0; j < sha1.Size && i+j < len(plain); j++ {
			out = append(out, plain[i+j]^digest[j])
		}
	}
	check := sha1.New()
	check.Write(pw)
	check.Write(plain)
	out = check.Sum(out)
	var info encryptedPrivateKeyInfo
	info.Algo.Algorithm = jksKeyProtector
	info.Algo.Parameters = asn1.NullRawValue
	info.EncryptedData = out
	return asn1.Marshal(info)
}

// javaUTF writes a string as DataOutput.writeUTF (ASCII aliases only).
func javaUTF(b *bytes.Buffer, s string) {
	binary.Write(b, binary.BigEndian, uint16(len(s))) //nolint:errcheck // bytes.Buffer does not fail
	b.WriteString(s)
}

// Keystore builds a JKS keystore holding one private key entry (a fresh
// EC P-256 key and its self-signed certificate for cn) under alias,
// protected by password, the shape of the server-keystore.jks
// alien4cloud-spray imports with keytool.
func Keystore(alias, cn, password string, now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"alien4cloud"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), DNSNames: []string{cn},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	protected, err := protectKey(pkcs8, password)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.BigEndian, v) } //nolint:errcheck // bytes.Buffer does not fail
	w(uint32(0xFEEDFEED))
	w(uint32(2))
	w(uint32(1))
	w(uint32(1)) // private key entry
	javaUTF(&b, alias)
	w(now.UnixMilli())
	w(uint32(len(protected)))
	b.Write(protected)
	w(uint32(1)) // chain length
	javaUTF(&b, "X.509")
	w(uint32(len(cert)))
	b.Write(cert)
	h := sha1.New()
	h.Write(jksPassword(password))
	h.Write([]byte("Mighty Aphrodite"))
	h.Write(b.Bytes())
	return h.Sum(b.Bytes()), nil
}
