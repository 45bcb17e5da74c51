// Package phone checks a telephone number the way libphonenumber does
// (github.com/nyaruka/phonenumbers' Parse, IsValidNumber and E.164
// formatting) over a generated copy of its metadata, so that a binary that
// validates a number now and then does not hold all of that metadata in
// memory from start-up. See tools/phonemeta for why, and phone_test.go for
// the comparison with the library.
//
// It reads the numbers people type into a form: digits with spaces,
// hyphens, dots, slashes and parentheses, and an optional leading + with
// the country calling code. Letters (vanity numbers), extensions, tel: URIs
// and non-ASCII digits, which the library also reads, are refused.
package phone

//go:generate go run ../../tools/phonemeta -o metadata.go

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

var (
	// ErrRegion means the region is not a two-letter region code that has
	// a country calling code.
	ErrRegion = errors.New("phone: unknown region")
	// ErrNumber means the text is not a valid number for the region (or,
	// with a leading +, for its country calling code).
	ErrNumber = errors.New("phone: not a valid number")
)

// Limits of libphonenumber.
const (
	minNSN = 2  // the shortest national significant number
	maxNSN = 17 // the longest (the ITU says 15; Germany has longer)
	maxCC  = 3  // the longest country calling code
)

// region is one region's (or non-geographic entity's) metadata.
type region struct {
	id             string // ISO 3166-1 alpha-2, or "001" for a non-geographic entity
	cc             int    // country calling code
	intlPrefix     string // the international (IDD) prefix dialled from there
	nationalPrefix string // national_prefix_for_parsing
	transform      string // national_prefix_transform_rule
	leadingDigits  string // which numbers of a shared calling code are this region's
	general        desc   // every valid number matches it
	types          []desc // a valid number also matches one of these
}

// desc is a number pattern and the lengths of the numbers it accepts.
type desc struct {
	pattern      string
	lengths      string // one byte per length, ascending; empty: the general ones
	localLengths string
}

type callingCode struct {
	cc      int
	regions []uint16 // indexes into regions, the main region first
}

// compiledRegion holds a region's patterns, compiled on first use.
type compiledRegion struct {
	once           sync.Once
	intlPrefix     *regexp.Regexp
	nationalPrefix *regexp.Regexp
	leadingDigits  *regexp.Regexp
	general        *regexp.Regexp
	types          []*regexp.Regexp
}

var compiled [len(regions)]compiledRegion

// patterns returns region i's compiled patterns.
func patterns(i int) *compiledRegion {
	c := &compiled[i]
	c.once.Do(func() {
		r := &regions[i]
		// An empty international prefix matches, as in libphonenumber.
		c.intlPrefix = regexp.MustCompile("^(?:" + r.intlPrefix + ")")
		c.nationalPrefix = compile("^(?:", r.nationalPrefix, ")")
		c.leadingDigits = compile("^(?:", r.leadingDigits, ")")
		c.general = compile("^(?:", r.general.pattern, ")$")
		c.types = make([]*regexp.Regexp, len(r.types))
		for j, d := range r.types {
			c.types[j] = compile("^(?:", d.pattern, ")$")
		}
	})
	return c
}

// compile compiles a pattern of the metadata; nil when there is none. The
// metadata is checked by the tests, so a pattern that does not compile is
// a bug in the generator.
func compile(prefix, pattern, suffix string) *regexp.Regexp {
	if pattern == "" {
		return nil
	}
	return regexp.MustCompile(prefix + pattern + suffix)
}

// CallingCode returns the country calling code of a two-letter region code
// (upper case), or 0 if there is none.
func CallingCode(regionCode string) int {
	if i, ok := regionIndex(regionCode); ok {
		return regions[i].cc
	}
	return 0
}

func regionIndex(id string) (int, bool) {
	if len(id) != 2 {
		return 0, false
	}
	i := sort.Search(len(regions), func(i int) bool { return regions[i].id >= id })
	return i, i < len(regions) && regions[i].id == id
}

func callingCodeRegions(cc int) []uint16 {
	i := sort.Search(len(callingCodes), func(i int) bool { return callingCodes[i].cc >= cc })
	if i < len(callingCodes) && callingCodes[i].cc == cc {
		return callingCodes[i].regions
	}
	return nil
}

// E164 parses number as dialled in regionCode (upper case) and returns it
// in E.164 (+ and digits) if it is a valid number.
func E164(regionCode, number string) (string, error) {
	cc, nsn, _, err := parse(regionCode, number)
	if err != nil {
		return "", err
	}
	return "+" + strconv.Itoa(cc) + nsn, nil
}

// parse returns the country calling code, national significant number and
// region (an index into regions) of a valid number.
func parse(regionCode, number string) (cc int, nsn string, region int, err error) {
	home, ok := regionIndex(regionCode)
	if !ok {
		return 0, "", 0, ErrRegion
	}
	digits, plus, ok := extract(number)
	if !ok {
		return 0, "", 0, ErrNumber
	}
	cc, national, err := countryCode(digits, plus, home)
	if err != nil {
		return 0, "", 0, err
	}
	// The national prefix is stripped by the rules of the number's main
	// region: the home region's for a national number.
	meta := home
	if cc != 0 {
		meta = int(callingCodeRegions(cc)[0])
	} else {
		national, cc = digits, regions[home].cc
	}
	if len(national) < minNSN {
		return 0, "", 0, ErrNumber
	}
	// The national prefix goes only if what remains can still be a number
	// of the region: otherwise the digits may be a short number.
	if stripped, ok := stripNationalPrefix(national, meta); ok {
		switch testLength(stripped, &regions[meta].general) {
		case tooShort, localOnly, invalidLength:
		default:
			national = stripped
		}
	}
	if len(national) < minNSN || len(national) > maxNSN {
		return 0, "", 0, ErrNumber
	}
	r, ok := regionOfNumber(cc, national)
	if !ok || !isValidFor(national, r) {
		return 0, "", 0, ErrNumber
	}
	return cc, national, r, nil
}

// extract reads the digits of number and whether it starts with a +. It
// refuses anything but digits, the separators people type, and a + at the
// start.
func extract(number string) (digits string, plus bool, ok bool) {
	var b strings.Builder
	started := false
	for i := 0; i < len(number); i++ {
		switch c := number[i]; {
		case c >= '0' && c <= '9':
			started = true
			b.WriteByte(c)
		case c == '+':
			if started || plus {
				return "", false, false
			}
			started, plus = true, true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
		default:
			return "", false, false
		}
	}
	digits = b.String()
	return digits, plus, len(digits) >= minNSN
}

// countryCode finds the country calling code at the start of the digits
// (after a +, after the home region's international prefix, or the home
// region's own code written without a +). It returns 0 and no national
// number when the digits are a national number of the home region.
func countryCode(digits string, plus bool, home int) (int, string, error) {
	if plus {
		if len(digits) <= minNSN {
			return 0, "", ErrNumber
		}
		if cc, national := leadingCallingCode(digits); cc != 0 {
			return cc, national, nil
		}
		// As libphonenumber: a + followed by no known calling code is read
		// again as if it were not there.
		cc, national, err := countryCode(digits, false, home)
		if err == nil && cc == 0 {
			err = ErrNumber
		}
		return cc, national, err
	}
	p := patterns(home)
	if loc := findPrefix(p.intlPrefix, digits); loc >= 0 {
		rest := digits[loc:]
		if len(rest) <= minNSN {
			return 0, "", ErrNumber
		}
		cc, national := leadingCallingCode(rest)
		if cc == 0 {
			return 0, "", ErrNumber
		}
		return cc, national, nil
	}
	r := &regions[home]
	if own := strconv.Itoa(r.cc); strings.HasPrefix(digits, own) {
		national := digits[len(own):]
		if stripped, ok := stripNationalPrefix(national, home); ok {
			national = stripped
		}
		fullValid := p.general != nil && p.general.MatchString(digits)
		nationalValid := p.general != nil && p.general.MatchString(national)
		if (!fullValid && nationalValid) || testLength(digits, &r.general) == tooLong {
			return r.cc, national, nil
		}
	}
	return 0, "", nil
}

// findPrefix returns where an international prefix at the start of digits
// ends, or -1. A prefix followed by 0 is not one: no calling code starts
// with 0.
func findPrefix(re *regexp.Regexp, digits string) int {
	loc := re.FindStringIndex(digits)
	if loc == nil {
		return -1
	}
	if loc[1] < len(digits) && digits[loc[1]] == '0' {
		return -1
	}
	return loc[1]
}

// leadingCallingCode splits a known country calling code off the digits.
func leadingCallingCode(digits string) (int, string) {
	if digits == "" || digits[0] == '0' {
		return 0, ""
	}
	for n := 1; n <= maxCC && n <= len(digits); n++ {
		cc, _ := strconv.Atoi(digits[:n])
		if callingCodeRegions(cc) != nil {
			return cc, digits[n:]
		}
	}
	return 0, ""
}

// stripNationalPrefix removes region i's national prefix (a trunk prefix
// such as 0, or a carrier code), applying the transform rule where the
// region has one. It reports false when there is none to remove, or when
// removing it would turn a number that fits the region's pattern into one
// that does not.
func stripNationalPrefix(national string, i int) (string, bool) {
	p, r := patterns(i), &regions[i]
	if national == "" || p.nationalPrefix == nil {
		return national, false
	}
	m := p.nationalPrefix.FindStringSubmatchIndex(national)
	if m == nil {
		return national, false
	}
	viable := p.general != nil && p.general.MatchString(national)
	lastGroup := len(m)/2 - 1
	if r.transform == "" || m[lastGroup*2] < 0 {
		if viable && !p.general.MatchString(national[m[1]:]) {
			return national, false
		}
		return national[m[1]:], true
	}
	transformed := p.nationalPrefix.ReplaceAllString(national, r.transform)
	if viable && !p.general.MatchString(transformed) {
		return national, false
	}
	return transformed, true
}

type lengthResult int

const (
	possible lengthResult = iota
	localOnly
	tooShort
	tooLong
	invalidLength
)

// testLength is libphonenumber's testNumberLength for the general
// description.
func testLength(number string, d *desc) lengthResult {
	n := len(number)
	if d.lengths == "" || d.lengths[0] == 0 {
		return invalidLength
	}
	if strings.IndexByte(d.localLengths, byte(n)) >= 0 && n < 256 {
		return localOnly
	}
	switch {
	case int(d.lengths[0]) == n:
		return possible
	case int(d.lengths[0]) > n:
		return tooShort
	case int(d.lengths[len(d.lengths)-1]) < n:
		return tooLong
	case strings.IndexByte(d.lengths[1:], byte(n)) >= 0:
		return possible
	}
	return invalidLength
}

// regionOfNumber finds which of the calling code's regions the national
// significant number belongs to.
func regionOfNumber(cc int, nsn string) (int, bool) {
	list := callingCodeRegions(cc)
	if len(list) == 1 {
		return int(list[0]), true
	}
	for _, i := range list {
		if p := patterns(int(i)); p.leadingDigits != nil {
			if p.leadingDigits.MatchString(nsn) {
				return int(i), true
			}
		} else if isValidFor(nsn, int(i)) {
			return int(i), true
		}
	}
	return 0, false
}

// isValidFor reports whether the national significant number fits region
// i's general description and one of its number types.
func isValidFor(nsn string, i int) bool {
	p, r := patterns(i), &regions[i]
	if !matches(nsn, &r.general, p.general) {
		return false
	}
	for j := range r.types {
		if matches(nsn, &r.types[j], p.types[j]) {
			return true
		}
	}
	return false
}

func matches(nsn string, d *desc, re *regexp.Regexp) bool {
	if d.lengths != "" && (len(nsn) > 255 || strings.IndexByte(d.lengths, byte(len(nsn))) < 0) {
		return false
	}
	return re != nil && re.MatchString(nsn)
}
