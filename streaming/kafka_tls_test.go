package streaming_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lambdastack/lambdastack/streaming"
)

// selfSigned makes a TLS server certificate for 127.0.0.1 and the pool
// that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestKafkaTLS produces and reads over TLS with SCRAM-SHA-512 (MSK's 9096
// listener); without TLS the same cluster is not reachable.
func TestKafkaTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	c := fakeKafka(t, 2, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "app", "pw"))
	cfg := kafkaCfg(c)
	cfg.SASL, cfg.User, cfg.Password = streaming.SASLScramSHA512, "app", "pw"
	cfg.TLS, cfg.TLSConfig = true, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	roundTrip(t, cfg, 40, " over TLS")
	cfg.TLS, cfg.TLSConfig = false, nil
	if _, err := streaming.NewKafkaSink(t.Context(), cfg); err == nil {
		t.Fatal("a plaintext client reached a TLS listener")
	}
}
