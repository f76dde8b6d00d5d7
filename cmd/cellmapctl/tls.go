package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// tls ca create and tls cert create exit codes.
const (
	exitTLSRefused = 1 // a file exists (nothing written), or the CA cannot issue
)

// day is the unit of --days.
const day = 24 * time.Hour

// tls ca create ------------------------------------------------------------------------------

// tlsCACreateOptions are the options of tls ca create.
type tlsCACreateOptions struct {
	dir, commonName string
	days            int
	force           bool
}

// tlsCACreateCommand is the dispatch entry of tls ca create.
func tlsCACreateCommand() command {
	return command{name: "ca create",
		summary: "Create the cluster CA: cellmap-ca.pem and cellmap-ca-key.pem in --dir (ECDSA P-256, mode 0600).\n" +
			"Keep the key off the nodes: it only signs certificates (tls cert create).",
		exits: "  0 created\n  1 refused: a file exists (see --force)\n",
		new:   func() options { return &tlsCACreateOptions{} }}
}

// addFlags defines the options of tls ca create.
func (o *tlsCACreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.dir, "dir", ".", "`DIR`ectory to write the files to (default: the current one)")
	f.fs.StringVar(&o.commonName, "common-name", "cellmap CA", "`NAME` of the CA (its subject's common name)")
	f.fs.IntVar(&o.days, "days", int(pki.CALifetime/day), fmt.Sprintf("validity in `DAYS` (default %d)", int(pki.CALifetime/day)))
	f.fs.BoolVar(&o.force, "force", false, "overwrite existing files")
}

// validate checks the options of tls ca create.
func (o *tlsCACreateOptions) validate([]string) error {
	if o.days <= 0 {
		return usagef("--days must be positive")
	}
	return nil
}

// run executes tls ca create.
func (o *tlsCACreateOptions) run(_ context.Context, e *env, _ []string) int {
	r := e.report()
	ca, err := pki.NewCA(pki.CARequest{CommonName: o.commonName, Lifetime: time.Duration(o.days) * day})
	if err != nil {
		return r.fail(err)
	}
	certFile, keyFile := pki.CAFiles(o.dir)
	if err := pki.WriteKeyPair(ca, certFile, keyFile, o.force); err != nil {
		return tlsWriteFailed(r, err)
	}
	r.say("==> Saved %s", certFile)
	r.say("==> Saved %s", keyFile)
	r.result = certResult(ca, certFile, keyFile)
	return r.done(exitOK)
}

// tlsWriteFailed reports a refused or failed write.
func tlsWriteFailed(r *report, err error) int {
	if errors.Is(err, pki.ErrExists) {
		r.say("%v", err)
		return r.done(exitTLSRefused)
	}
	return r.fail(err)
}

// tlsCertResult is the JSON result of tls ca create and tls cert create.
type tlsCertResult struct {
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	Identity string `json:"identity,omitempty"`
	Serial   string `json:"serial"`
	NotAfter string `json:"not_after"`
}

func certResult(kp *pki.KeyPair, certFile, keyFile string) tlsCertResult {
	res := tlsCertResult{CertFile: certFile, KeyFile: keyFile, Serial: kp.Cert.SerialNumber.Text(16),
		NotAfter: kp.Cert.NotAfter.UTC().Format(time.RFC3339)}
	if id, err := transport.CertIdentity(kp.Cert); err == nil {
		res.Identity = id.String()
	}
	return res
}

// tls cert create ----------------------------------------------------------------------------

// tlsCertCreateOptions are the options of tls cert create.
type tlsCertCreateOptions struct {
	node, client, cell string
	ips, dnsNames      stringList
	dir, caFile, caKey string
	days               int
	force              bool
	identity           transport.Identity
	parsedIPs          []net.IP
}

// tlsCertCreateCommand is the dispatch entry of tls cert create.
func tlsCertCreateCommand() command {
	return command{name: "cert create",
		summary: "Issue a certificate signed by the cluster CA: --node ID for a cellmapd node (server and client;\n" +
			"--ip and --dns name what clients dial), --client NAME for an operator or a service, --cell UUID for\n" +
			"a cell's conductors. Writes <kind>-<name>.pem and <kind>-<name>-key.pem in --dir (mode 0600).",
		exits: "  0 issued\n  1 refused: a file exists (see --force), or the CA cannot issue\n",
		new:   func() options { return &tlsCertCreateOptions{} }}
}

// addFlags defines the options of tls cert create.
func (o *tlsCertCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.node, "node", "", "issue a node certificate for node `ID` (cellmap://node/ID)")
	f.fs.StringVar(&o.client, "client", "", "issue a client certificate for `NAME` (cellmap://client/NAME)")
	f.fs.StringVar(&o.cell, "cell", "", "issue a conductor certificate for cell `UUID` (cellmap://cell/UUID)")
	f.fs.Var(&o.ips, "ip", "`IP` address the certificate is valid for (repeatable; nodes and conductors)")
	f.fs.Var(&o.dnsNames, "dns", "DNS `NAME` the certificate is valid for (repeatable; nodes and conductors)")
	f.fs.StringVar(&o.dir, "dir", ".", "`DIR`ectory to write the files to, where the CA is by default (default: the current one)")
	f.fs.StringVar(&o.caFile, "ca", "", "CA certificate `FILE` (default <dir>/cellmap-ca.pem)")
	f.fs.StringVar(&o.caKey, "ca-key", "", "CA key `FILE` (default <dir>/cellmap-ca-key.pem)")
	f.fs.IntVar(&o.days, "days", int(pki.CertLifetime/day), fmt.Sprintf("validity in `DAYS` (default %d, capped by the CA's)", int(pki.CertLifetime/day)))
	f.fs.BoolVar(&o.force, "force", false, "overwrite existing files")
}

// validate checks the options of tls cert create.
func (o *tlsCertCreateOptions) validate([]string) error {
	var ids []transport.Identity
	if o.node != "" {
		ids = append(ids, transport.NodeIdentity(o.node))
	}
	if o.client != "" {
		ids = append(ids, transport.ClientIdentity(o.client))
	}
	if o.cell != "" {
		u, err := validate.UUID("--cell", o.cell)
		if err != nil {
			return usagef("%v", err)
		}
		ids = append(ids, transport.CellIdentity(u))
	}
	if len(ids) != 1 {
		return usagef("exactly one of --node, --client and --cell is required")
	}
	o.identity = ids[0]
	if err := o.identity.Validate(); err != nil {
		return usagef("%v", err)
	}
	for _, s := range o.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return usagef("--ip %q is not an IP address", s)
		}
		o.parsedIPs = append(o.parsedIPs, ip)
	}
	if o.days <= 0 {
		return usagef("--days must be positive")
	}
	req := o.request()
	if err := req.Validate(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

func (o *tlsCertCreateOptions) request() pki.CertRequest {
	return pki.CertRequest{Identity: o.identity, IPs: o.parsedIPs, DNSNames: o.dnsNames, Lifetime: time.Duration(o.days) * day}
}

// run executes tls cert create.
func (o *tlsCertCreateOptions) run(_ context.Context, e *env, _ []string) int {
	r := e.report()
	caFile, caKey := pki.CAFiles(o.dir)
	if o.caFile != "" {
		caFile = o.caFile
	}
	if o.caKey != "" {
		caKey = o.caKey
	}
	ca, err := pki.LoadKeyPair(caFile, caKey)
	if err != nil {
		r.say("%v", err)
		return r.done(exitTLSRefused)
	}
	kp, err := pki.Issue(ca, o.request())
	if err != nil {
		r.say("%v", err)
		return r.done(exitTLSRefused)
	}
	certFile, keyFile := pki.CertFiles(o.dir, o.identity)
	if err := pki.WriteKeyPair(kp, certFile, keyFile, o.force); err != nil {
		return tlsWriteFailed(r, err)
	}
	r.say("==> Using %s and %s", caFile, caKey)
	r.say("==> Saved %s (%s)", certFile, o.identity)
	r.say("==> Saved %s", keyFile)
	r.result = certResult(kp, certFile, keyFile)
	return r.done(exitOK)
}
