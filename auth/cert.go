package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // SubjectKeyId is an identifier, not a security boundary (RFC 5280 4.2.1.2)
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Role names carried in a certificate's DNS SANs.
const (
	RoleServer  = "server.shoal"
	RoleCompute = "compute.shoal"
	RoleCLI     = "cli.shoal"
)

// File names `shoal tls` writes, as Nomad's `nomad tls` does.
const (
	CAFile    = "shoal-agent-ca.pem"
	CAKeyFile = "shoal-agent-ca-key.pem"
)

// Default lifetimes: five years for the CA, one for the certificates it
// signs (Nomad's defaults).
const (
	DefaultCAValidity   = 5 * 365 * 24 * time.Hour
	DefaultCertValidity = 365 * 24 * time.Hour
)

// ErrExists is returned when a file `shoal tls` would write is already
// there: keys are never overwritten.
var ErrExists = errors.New("already exists")

// CertFiles names the certificate and key files of a role
// ("server-shoal.pem", "server-shoal-key.pem").
func CertFiles(role string) (cert, key string) {
	base := roleBase(role) + "-shoal"
	return base + ".pem", base + "-key.pem"
}

func roleBase(role string) string {
	switch role {
	case RoleServer:
		return "server"
	case RoleCompute:
		return "compute"
	case RoleCLI:
		return "cli"
	}
	return ""
}

// CreateCA writes a new CA certificate and key into dir and returns their
// paths. It refuses to replace either file.
func CreateCA(dir string, validity time.Duration) (certPath, keyPath string, err error) {
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	certPath, keyPath = filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if err := refuseExisting(certPath, keyPath); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Shoal Agent CA " + serial.Text(16)[:8], Organization: []string{"Shoal"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("sign CA certificate: %w", err)
	}
	if err := writePair(certPath, der, keyPath, key); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// CertRequest describes a certificate to sign.
type CertRequest struct {
	// Role is RoleServer, RoleCompute or RoleCLI.
	Role string
	// DNSNames and IPs are added to the SANs; the role is always one, and
	// server certificates also get localhost and 127.0.0.1.
	DNSNames []string
	IPs      []net.IP
	// CACert and CAKey are the signing CA's files.
	CACert, CAKey string
	// Dir is where the files are written.
	Dir      string
	Validity time.Duration
}

// CreateCert signs a certificate for a role with the CA and writes it and
// its key into req.Dir. It refuses to replace either file.
func CreateCert(req CertRequest) (certPath, keyPath string, err error) {
	if roleBase(req.Role) == "" {
		return "", "", fmt.Errorf("unknown certificate role %q: want %s, %s or %s", req.Role, RoleServer, RoleCompute, RoleCLI)
	}
	if req.Validity <= 0 {
		req.Validity = DefaultCertValidity
	}
	certName, keyName := CertFiles(req.Role)
	certPath, keyPath = filepath.Join(req.Dir, certName), filepath.Join(req.Dir, keyName)
	if err := refuseExisting(certPath, keyPath); err != nil {
		return "", "", err
	}
	ca, caKey, err := LoadCA(req.CACert, req.CAKey)
	if err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return "", "", err
	}
	dns := []string{req.Role}
	ips := slices.Clone(req.IPs)
	if req.Role == RoleServer {
		dns = append(dns, "localhost")
		ips = append(ips, net.IPv4(127, 0, 0, 1))
	}
	for _, n := range req.DNSNames {
		if n != "" && !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
	}
	ips = dedupIPs(ips)
	now := time.Now()
	notAfter := now.Add(req.Validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: req.Role, Organization: []string{"Shoal"}},
		NotBefore:      now.Add(-time.Minute),
		NotAfter:       notAfter,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:       dns,
		IPAddresses:    ips,
		SubjectKeyId:   keyID(&key.PublicKey),
		AuthorityKeyId: ca.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", fmt.Errorf("sign certificate: %w", err)
	}
	if err := writePair(certPath, der, keyPath, key); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// LoadCA reads a CA certificate and its private key.
func LoadCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read CA key: %w", err)
	}
	ca, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate %s: %w", certFile, err)
	}
	if !ca.IsCA {
		return nil, nil, fmt.Errorf("%s is not a CA certificate", certFile)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("CA key %s holds no PEM block", keyFile)
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("CA key %s: %w", keyFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("CA key %s cannot sign", keyFile)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(ca.PublicKey) {
		return nil, nil, fmt.Errorf("CA key %s does not belong to the CA certificate %s", keyFile, certFile)
	}
	return ca, signer, nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func refuseExisting(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s %w: remove it or work in another folder", p, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", p, err)
		}
	}
	return nil
}

// writePair writes the certificate (0644) and the key (0600), each created
// exclusively; when the second fails the first is removed, so a failure
// leaves nothing behind.
func writePair(certPath string, der []byte, keyPath string, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	if err := writeExclusive(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	if err := writeExclusive(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		_ = os.Remove(certPath)
		return err
	}
	return nil
}

func writeExclusive(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s %w: remove it or work in another folder", path, ErrExists)
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha1.Sum(der) //nolint:gosec // see import
	return sum[:]
}

func dedupIPs(ips []net.IP) []net.IP {
	var out []net.IP
	for _, ip := range ips {
		if ip == nil {
			continue
		}
		if !slices.ContainsFunc(out, ip.Equal) {
			out = append(out, ip)
		}
	}
	return out
}
