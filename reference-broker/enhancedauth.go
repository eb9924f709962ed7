package broker

import (
	"mqttspec/codec"
)

// maxAuthRounds bounds an enhanced authentication exchange.
const maxAuthRounds = 16

// enhancedAuth runs the AUTH exchange of a CONNECT that names an Authentication Method
// (section 4.12). It returns the data for the CONNACK once the method accepts the client.
func (c *conn) enhancedAuth(method string, data []byte) ([]byte, error) {
	m := c.b.cfg.AuthMethods[method]
	if m == nil {
		return nil, &closeError{reason: codec.BadAuthenticationMethod, rule: "MQTT-4.12.0-1",
			msg: "authentication method " + method + " is not supported"}
	}
	ex := &AuthExchange{Method: method, ClientID: c.clientID, Username: c.username}
	for {
		challenge, done, rc := m.Step(ex, data)
		if done {
			if rc != codec.Success {
				return nil, &closeError{reason: rc, msg: "enhanced authentication failed"}
			}
			return challenge, nil
		}
		if ex.Round++; ex.Round > maxAuthRounds {
			return nil, &closeError{reason: codec.NotAuthorized, msg: "enhanced authentication takes too many rounds"}
		}
		c.send(authPacket(codec.ContinueAuthentication, method, challenge))
		p, err := c.readDuringAuth()
		if err != nil {
			return nil, err
		}
		switch p := p.(type) {
		case *codec.Auth:
			if err := checkAuth(p, method, codec.ContinueAuthentication); err != nil {
				return nil, err
			}
			data = append([]byte(nil), p.Props.AuthData...)
		case *codec.Disconnect:
			return nil, &disconnected{reason: p.ReasonCode}
		default:
			return nil, protocolError("MQTT-3.1.2-30", p.Type().String()+" before the CONNACK of an enhanced authentication")
		}
	}
}

// readDuringAuth reads the client's next packet while an exchange runs before CONNACK.
func (c *conn) readDuringAuth() (codec.Packet, error) {
	fh, raw, err := c.r.ReadRaw()
	if err != nil {
		if e, ok := codec.AsError(err); ok {
			return nil, fromCodec(e)
		}
		return nil, c.connectReadError(err)
	}
	if fh.Type == codec.CONNECT {
		return nil, protocolError("MQTT-3.1.0-2", "a second CONNECT on the connection")
	}
	p, err := c.r.DecodeBody(fh, raw)
	if err != nil {
		return nil, c.readError(err)
	}
	c.traceIn(p, raw)
	return p, nil
}

// checkAuth checks an AUTH from the client: the expected reason code [MQTT-4.12.0-3] and the
// method of the connection [MQTT-4.12.0-5, MQTT-4.12.1-1].
func checkAuth(p *codec.Auth, method string, want codec.ReasonCode) error {
	if string(p.Props.AuthMethod) != method {
		return protocolError("MQTT-4.12.1-1", "AUTH names authentication method "+string(p.Props.AuthMethod)+", not "+method)
	}
	if p.ReasonCode != want {
		return protocolError("MQTT-4.12.0-3", "AUTH with reason "+p.ReasonCode.Name(codec.AUTH)+" where "+want.Name(codec.AUTH)+" is expected")
	}
	return nil
}

func authPacket(rc codec.ReasonCode, method string, data []byte) *codec.Auth {
	a := &codec.Auth{ReasonCode: rc}
	a.Props.AuthMethod = []byte(method)
	a.Props.Set(codec.PropAuthMethod)
	if data != nil {
		a.Props.AuthData = data
		a.Props.Set(codec.PropAuthData)
	}
	return a
}

// handleReauth runs a re-authentication (section 4.12.1) one AUTH at a time, alongside the
// connection's other traffic. A client that did not authenticate with a method must not send
// AUTH [MQTT-4.12.0-7].
func (c *conn) handleReauth(p *codec.Auth) error {
	if c.authMethod == "" {
		return protocolError("MQTT-4.12.0-7", "AUTH from a client that did not name an Authentication Method in CONNECT")
	}
	want := codec.ReAuthenticate
	if c.reauth != nil {
		want = codec.ContinueAuthentication
	}
	if err := checkAuth(p, c.authMethod, want); err != nil {
		return err
	}
	if c.reauth == nil {
		c.reauth = &AuthExchange{Method: c.authMethod, ClientID: c.clientID, Username: c.username}
	} else if c.reauth.Round++; c.reauth.Round > maxAuthRounds {
		return &closeError{reason: codec.NotAuthorized, rule: "MQTT-4.12.1-2", msg: "re-authentication takes too many rounds"}
	}
	challenge, done, rc := c.b.cfg.AuthMethods[c.authMethod].Step(c.reauth, p.Props.AuthData)
	if !done {
		c.send(authPacket(codec.ContinueAuthentication, c.authMethod, challenge))
		return nil
	}
	c.reauth = nil
	if rc != codec.Success {
		return &closeError{reason: rc, rule: "MQTT-4.12.1-2", msg: "re-authentication failed"}
	}
	c.send(authPacket(codec.Success, c.authMethod, challenge))
	return nil
}
