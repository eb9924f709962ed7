package broker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"time"

	"mqttspec/codec"
)

// connectRequest is what the broker keeps of a CONNECT: the packet's bytes are reused by the
// next read, so everything needed later is copied here.
type connectRequest struct {
	cleanStart   bool
	assignedID   bool
	expiry       uint32 // Session Expiry Interval (3.1.1: 0 or neverExpires from Clean Session)
	receiveMax   int
	maxPacket    int
	aliasMax     uint16
	responseInfo bool
	authMethod   string
	authData     []byte
	will         *will
}

// connect reads and answers the CONNECT (and any AUTH exchange). It returns nil once a
// successful CONNACK is queued and the session is attached.
func (c *conn) connect() error {
	c.nc.SetReadDeadline(time.Now().Add(c.b.cfg.ConnectTimeout))
	p, err := c.readConnect()
	if err != nil {
		return err
	}
	req, err := c.checkConnect(p)
	if err != nil {
		return err
	}
	var authReply []byte
	if req.authMethod != "" {
		authReply, err = c.enhancedAuth(req.authMethod, req.authData)
	} else {
		err = c.authenticate(p)
	}
	if err != nil {
		return err
	}
	return c.accept(req, authReply)
}

// readConnect reads the first packet, which must be a CONNECT [MQTT-3.1.0-1].
func (c *conn) readConnect() (*codec.Connect, error) {
	fh, raw, err := c.r.ReadRaw()
	if err != nil {
		return nil, c.connectReadError(err)
	}
	if fh.Type != codec.CONNECT {
		return nil, &closeError{rule: "MQTT-3.1.0-1", msg: "the first packet is " + fh.Type.String() + ", not CONNECT"}
	}
	p, err := c.r.DecodeBody(fh, raw)
	if err != nil {
		return nil, c.connectDecodeError(err)
	}
	c.traceIn(p, raw)
	return p.(*codec.Connect), nil
}

// connectReadError classifies a failure to read a packet before the CONNECT is accepted: the
// client's version is unknown (or the packet is not the CONNECT), so nothing is sent.
func (c *conn) connectReadError(err error) error {
	if e, ok := codec.AsError(err); ok {
		return &closeError{rule: e.Rule, msg: e.Error()}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.isClosing() {
		return &closeError{msg: "no CONNECT within the connect timeout"}
	}
	return err
}

// connectDecodeError answers a CONNECT the codec rejected. A 5.0 client gets a CONNACK with the
// reason [MQTT-4.13.1-1 allows it]; an unsupported protocol level gets return code 0x01
// [MQTT-3.1.2-2 in 3.1.1]; any other malformed 3.1.1 CONNECT is closed without a CONNACK
// [MQTT-3.1.4-1 in 3.1.1].
func (c *conn) connectDecodeError(err error) error {
	e, ok := codec.AsError(err)
	if !ok {
		return err
	}
	ce := fromCodec(e)
	switch {
	case c.r.Connect.ProtocolLevel == codec.V5:
		c.version = codec.V5
		if pr := &c.r.Connect.Props; pr.Has(codec.PropMaximumPacketSize) {
			c.maxOut = int(pr.MaximumPacketSize) // the CONNACK must respect it if it was read
		}
	case e.Reason == codec.UnsupportedProtocolVersion && e.Field == "protocol level":
		c.version = codec.V311
	default:
		c.version = codec.V311
		ce.reason = 0
	}
	return ce
}

// checkConnect applies the rules a well-formed CONNECT must still meet and copies it.
func (c *conn) checkConnect(p *codec.Connect) (*connectRequest, error) {
	cfg := &c.b.cfg
	c.version = p.ProtocolLevel
	v5 := c.version == codec.V5
	pr := &p.Props
	if v5 {
		// Known before any refusal: a CONNACK that refuses must respect them too.
		if pr.Has(codec.PropMaximumPacketSize) {
			c.maxOut = int(pr.MaximumPacketSize)
		}
		if pr.Has(codec.PropRequestProblemInfo) {
			c.problemInfo = pr.RequestProblemInfo == 1
		}
		if pr.Has(codec.PropAuthData) && !pr.Has(codec.PropAuthMethod) {
			return nil, protocolError("", "Authentication Data without an Authentication Method (section 3.1.2.11.10)")
		}
	}
	if c.overLimit {
		return nil, &closeError{reason: codec.ServerBusy, msg: "the broker has reached its connection limit"}
	}
	req := &connectRequest{cleanStart: p.CleanStart, receiveMax: 65535}
	id := string(p.ClientID)
	switch {
	case c.version == codec.V31 && (len(id) == 0 || len(id) > 23):
		return nil, &closeError{reason: codec.ClientIdentifierNotValid, msg: "an MQTT 3.1 client identifier has 1 to 23 characters"}
	case len(id) == 0 && !v5 && !p.CleanStart:
		return nil, &closeError{reason: codec.ClientIdentifierNotValid, rule: "MQTT-3.1.3-8",
			msg: "an empty client identifier needs Clean Session 1"}
	case len(id) == 0:
		id = c.b.assignClientID()
		req.assignedID = true
	}
	c.clientID = id
	c.traceID.Store(&id)
	c.username = string(p.Username)
	c.keepAlive = time.Duration(p.KeepAlive) * time.Second
	if !v5 {
		req.expiry = neverExpires
		if p.CleanStart {
			req.expiry = 0
		}
		req.will = newWill(p, c.client())
		return req, nil
	}
	if p.WillFlag && p.WillQoS > cfg.MaximumQoS {
		return nil, &closeError{reason: codec.QoSNotSupported, rule: "MQTT-3.2.2-12", msg: "the Will QoS exceeds the Maximum QoS"}
	}
	if p.WillFlag && p.WillRetain && !cfg.RetainAvailable {
		return nil, &closeError{reason: codec.RetainNotSupported, rule: "MQTT-3.2.2-13", msg: "Will Retain is set but retained messages are not available"}
	}
	req.expiry = pr.SessionExpiry
	if pr.Has(codec.PropReceiveMaximum) {
		req.receiveMax = int(pr.ReceiveMaximum)
	}
	if pr.Has(codec.PropMaximumPacketSize) {
		req.maxPacket = int(pr.MaximumPacketSize)
	}
	req.aliasMax = pr.TopicAliasMaximum
	req.responseInfo = pr.RequestResponseInfo == 1
	if pr.Has(codec.PropAuthMethod) {
		req.authMethod = string(pr.AuthMethod)
		req.authData = append([]byte(nil), pr.AuthData...)
	}
	if cfg.ServerKeepAlive > 0 {
		c.keepAlive = time.Duration(cfg.ServerKeepAlive) * time.Second
	}
	req.will = newWill(p, c.client())
	return req, nil
}

// client is the connection's identity for authorization.
func (c *conn) client() Client {
	return Client{ID: c.clientID, Username: c.username, Version: c.version}
}

// authenticate checks the user name and password of a CONNECT without an Authentication Method.
func (c *conn) authenticate(p *codec.Connect) error {
	cfg := &c.b.cfg
	if !p.UsernameFlag && !cfg.AllowAnonymous {
		return &closeError{reason: codec.NotAuthorized, msg: "anonymous clients are not allowed"}
	}
	if cfg.Authenticator == nil {
		return nil
	}
	rc := cfg.Authenticator.Authenticate(ConnectInfo{
		ClientID: c.clientID, Username: c.username, HasUsername: p.UsernameFlag,
		Password: p.Password, HasPassword: p.PasswordFlag, Version: c.version, Remote: c.nc.RemoteAddr(),
	})
	if rc != codec.Success {
		return &closeError{reason: rc, msg: "authentication failed"}
	}
	return nil
}

// accept attaches the session and queues the successful CONNACK [MQTT-3.2.0-1].
func (c *conn) accept(req *connectRequest, authReply []byte) error {
	cfg := &c.b.cfg
	c.connectExpiry = req.expiry
	c.authMethod = req.authMethod
	c.inAliases = map[uint16][]byte{}
	c.enc = encoder{version: c.version, maxSize: req.maxPacket, aliasMax: req.aliasMax,
		quota: min(req.receiveMax, cfg.MaxInflight), aliases: map[string]uint16{}, stats: &c.b.stats}
	return c.b.sessions.attach(c, req.cleanStart, req.expiry, req.will, func(s *session, present bool) {
		c.sess = s
		ack := &codec.Connack{SessionPresent: present && c.version != codec.V31}
		if c.version == codec.V5 {
			c.connackProps(&ack.Props, req, authReply)
		}
		c.mu.Lock()
		c.ctrl = c.appendControl(c.ctrl, ack)
		c.accepted = true
		c.attached = s
		c.mu.Unlock()
		c.wakeWriter()
	})
}

// connackProps announces the capabilities that differ from the protocol defaults.
func (c *conn) connackProps(pr *codec.Properties, req *connectRequest, authReply []byte) {
	cfg := &c.b.cfg
	if cfg.ReceiveMaximum != 65535 {
		pr.ReceiveMaximum = cfg.ReceiveMaximum
		pr.Set(codec.PropReceiveMaximum)
	}
	if cfg.MaximumQoS < 2 {
		pr.MaximumQoS = cfg.MaximumQoS
		pr.Set(codec.PropMaximumQoS)
	}
	flag := func(id codec.PropID, on bool, field *byte) {
		if !on {
			*field = 0
			pr.Set(id)
		}
	}
	flag(codec.PropRetainAvailable, cfg.RetainAvailable, &pr.RetainAvailable)
	flag(codec.PropWildcardSubAvailable, cfg.WildcardSubAvailable, &pr.WildcardSubAvailable)
	flag(codec.PropSubIDAvailable, cfg.SubIDAvailable, &pr.SubIDAvailable)
	flag(codec.PropSharedSubAvailable, cfg.SharedSubAvailable, &pr.SharedSubAvailable)
	if cfg.MaximumPacketSize < maxPacketLimit {
		pr.MaximumPacketSize = cfg.MaximumPacketSize
		pr.Set(codec.PropMaximumPacketSize)
	}
	if cfg.TopicAliasMaximum > 0 {
		pr.TopicAliasMaximum = cfg.TopicAliasMaximum
		pr.Set(codec.PropTopicAliasMaximum)
	}
	if req.assignedID {
		pr.AssignedClientID = []byte(c.clientID)
		pr.Set(codec.PropAssignedClientID)
	}
	if cfg.ServerKeepAlive > 0 {
		pr.ServerKeepAlive = cfg.ServerKeepAlive
		pr.Set(codec.PropServerKeepAlive)
	}
	// Response Information only on request [MQTT-3.1.2-28].
	if req.responseInfo && cfg.ResponseInformation != "" {
		pr.ResponseInfo = []byte(cfg.ResponseInformation + c.clientID)
		pr.Set(codec.PropResponseInfo)
	}
	if req.authMethod != "" {
		pr.AuthMethod = []byte(req.authMethod)
		pr.Set(codec.PropAuthMethod)
		if authReply != nil {
			pr.AuthData = authReply
			pr.Set(codec.PropAuthData)
		}
	}
}

// assignClientID makes a client identifier no session uses [MQTT-3.1.3-6, MQTT-3.2.2-16].
func (b *Broker) assignClientID() string {
	var raw [12]byte
	for {
		rand.Read(raw[:])
		id := "auto-" + hex.EncodeToString(raw[:])
		if !b.sessions.exists(id) {
			return id
		}
	}
}
