package audiohook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A minimal reader and writer of HTTP structured field values (RFC 8941),
// as far as HTTP message signatures (RFC 9421) use them: the
// Signature-Input and Signature fields are dictionaries whose members are
// inner lists of strings with parameters, or byte sequences. Decimals are
// parsed but not used.

// sfKind is the type of a bare item.
type sfKind int

const (
	sfInteger sfKind = iota
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfBool
)

// sfItem is a bare item.
type sfItem struct {
	kind sfKind
	i    int64
	s    string // string, token, decimal text
	b    []byte
	v    bool
}

type sfParam struct {
	key string
	val sfItem
}

// sfMember is a dictionary member: an item, or an inner list, with
// parameters.
type sfMember struct {
	inner   bool
	item    sfItem   // !inner
	list    []sfItem // inner: the list's items (their own parameters are kept in listPar)
	listPar [][]sfParam
	params  []sfParam
}

type sfDict struct {
	keys []string
	m    map[string]sfMember
}

// maxSFLen bounds a structured field this parser reads: signatures are a
// few hundred bytes.
const maxSFLen = 4096

var errSF = errors.New("malformed structured field")

type sfParser struct {
	s string
	i int
}

func (p *sfParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errSF, p.i, fmt.Sprintf(format, args...))
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// parseDictionary parses a dictionary field (RFC 8941 section 4.2.2).
func parseDictionary(s string) (sfDict, error) {
	d := sfDict{m: map[string]sfMember{}}
	if len(s) > maxSFLen {
		return d, fmt.Errorf("%w: %d bytes", errSF, len(s))
	}
	p := &sfParser{s: strings.Trim(s, " \t")}
	if p.eof() {
		return d, nil
	}
	for {
		key, err := p.key()
		if err != nil {
			return d, err
		}
		var m sfMember
		if p.peek() == '=' {
			p.i++
			if m, err = p.itemOrInnerList(); err != nil {
				return d, err
			}
		} else {
			m.item = sfItem{kind: sfBool, v: true}
			if m.params, err = p.params(); err != nil {
				return d, err
			}
		}
		if _, dup := d.m[key]; !dup {
			d.keys = append(d.keys, key)
		}
		d.m[key] = m
		p.skipOWS()
		if p.eof() {
			return d, nil
		}
		if p.peek() != ',' {
			return d, p.errorf("expected a comma")
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return d, p.errorf("trailing comma")
		}
	}
}

func (p *sfParser) key() (string, error) {
	c := p.peek()
	if !(c >= 'a' && c <= 'z' || c == '*') {
		return "", p.errorf("a key must start with a lower-case letter or *")
	}
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) itemOrInnerList() (sfMember, error) {
	var m sfMember
	var err error
	if p.peek() == '(' {
		p.i++
		m.inner = true
		for {
			p.skipSP()
			if p.peek() == ')' {
				p.i++
				break
			}
			if p.eof() {
				return m, p.errorf("unterminated inner list")
			}
			it, err := p.bareItem()
			if err != nil {
				return m, err
			}
			ps, err := p.params()
			if err != nil {
				return m, err
			}
			m.list = append(m.list, it)
			m.listPar = append(m.listPar, ps)
			if c := p.peek(); c != ' ' && c != ')' {
				return m, p.errorf("expected a space or ) in an inner list")
			}
		}
	} else if m.item, err = p.bareItem(); err != nil {
		return m, err
	}
	m.params, err = p.params()
	return m, err
}

func (p *sfParser) params() ([]sfParam, error) {
	var ps []sfParam
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		v := sfItem{kind: sfBool, v: true}
		if p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range ps {
			if ps[i].key == k {
				ps[i].val, replaced = v, true
			}
		}
		if !replaced {
			ps = append(ps, sfParam{k, v})
		}
	}
	return ps, nil
}

func (p *sfParser) bareItem() (sfItem, error) {
	c := p.peek()
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '"':
		return p.str()
	case c == ':':
		return p.bytes()
	case c == '?':
		p.i++
		switch p.peek() {
		case '0':
			p.i++
			return sfItem{kind: sfBool}, nil
		case '1':
			p.i++
			return sfItem{kind: sfBool, v: true}, nil
		}
		return sfItem{}, p.errorf("a boolean is ?0 or ?1")
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*':
		start := p.i
		for !p.eof() && isTokenChar(p.s[p.i]) {
			p.i++
		}
		return sfItem{kind: sfToken, s: p.s[start:p.i]}, nil
	}
	return sfItem{}, p.errorf("unexpected %q", c)
}

// isTokenChar: tchar, ":" or "/" (RFC 8941 section 3.3.4).
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

func (p *sfParser) number() (sfItem, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits, dot := 0, false
	for !p.eof() {
		c := p.s[p.i]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
		p.i++
	}
	txt := p.s[start:p.i]
	if digits == 0 || digits > 15 || strings.HasSuffix(txt, ".") {
		return sfItem{}, p.errorf("bad number %q", txt)
	}
	if dot {
		return sfItem{kind: sfDecimal, s: txt}, nil
	}
	v, err := strconv.ParseInt(txt, 10, 64)
	if err != nil {
		return sfItem{}, p.errorf("bad integer %q", txt)
	}
	return sfItem{kind: sfInteger, i: v}, nil
}

func (p *sfParser) str() (sfItem, error) {
	p.i++ // "
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return sfItem{}, p.errorf("bad escape in a string")
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return sfItem{kind: sfString, s: b.String()}, nil
		case c < 0x20 || c >= 0x7f:
			return sfItem{}, p.errorf("a string holds printable ASCII only")
		default:
			b.WriteByte(c)
		}
	}
	return sfItem{}, p.errorf("unterminated string")
}

func (p *sfParser) bytes() (sfItem, error) {
	p.i++ // :
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return sfItem{}, p.errorf("unterminated byte sequence")
	}
	raw := p.s[p.i : p.i+end]
	p.i += end + 1
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return sfItem{}, p.errorf("byte sequence is not base64")
	}
	return sfItem{kind: sfBytes, b: b}, nil
}

// serialize writes an item as RFC 8941 section 4.1 does.
func (it sfItem) serialize(b *strings.Builder) {
	switch it.kind {
	case sfInteger:
		b.WriteString(strconv.FormatInt(it.i, 10))
	case sfDecimal, sfToken:
		b.WriteString(it.s)
	case sfString:
		b.WriteByte('"')
		for i := 0; i < len(it.s); i++ {
			if c := it.s[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(it.s[i])
		}
		b.WriteByte('"')
	case sfBytes:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(it.b))
		b.WriteByte(':')
	case sfBool:
		if it.v {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

func serializeParams(b *strings.Builder, ps []sfParam) {
	for _, p := range ps {
		b.WriteByte(';')
		b.WriteString(p.key)
		if p.val.kind == sfBool && p.val.v {
			continue
		}
		b.WriteByte('=')
		p.val.serialize(b)
	}
}

// serializeInnerList writes an inner list member with its parameters.
func (m sfMember) serializeInnerList() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range m.list {
		if i > 0 {
			b.WriteByte(' ')
		}
		it.serialize(&b)
		serializeParams(&b, m.listPar[i])
	}
	b.WriteByte(')')
	serializeParams(&b, m.params)
	return b.String()
}
