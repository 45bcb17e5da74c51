package phone

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// oracle is what github.com/nyaruka/phonenumbers answers for the same
// question: the E.164 form of a valid number and its region, or "" for an
// error or an invalid number.
func oracle(region, number string) (e164, of string) {
	num, err := phonenumbers.Parse(number, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ""
	}
	return phonenumbers.Format(num, phonenumbers.E164), phonenumbers.GetRegionCodeForNumber(num)
}

// typed reports whether number is in the grammar E164 reads (digits,
// separators, a leading +); only those are compared with the library.
func typed(number string) bool {
	for i, c := range number {
		switch {
		case c >= '0' && c <= '9', strings.ContainsRune(" -.()/", c):
		case c == '+' && strings.Trim(number[:i], " (") == "":
		default:
			return false
		}
	}
	return true
}

func compare(t *testing.T, region, number string, compared *int) {
	t.Helper()
	if !typed(number) {
		return
	}
	*compared++
	want, wantRegion := oracle(region, number)
	got, err := E164(region, number)
	if (err != nil) != (want == "") || got != want {
		t.Errorf("E164(%q, %q) = %q, %v; the library says %q", region, number, got, err, want)
	}
	if _, _, r, err := parse(region, number); err == nil && regions[r].id != wantRegion {
		t.Errorf("%q from %s is a number of %s; the library says %s", number, region, regions[r].id, wantRegion)
	}
}

// homes are regions from which every number is also dialled: calling
// codes shared by many regions, international prefixes of every shape,
// national prefixes with transform rules.
var homes = []string{"US", "GB", "DE", "BR", "AR", "RU", "KZ", "AU"}

func examples(t *testing.T) map[string][]*phonenumbers.PhoneNumber {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	out := map[string][]*phonenumbers.PhoneNumber{}
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			if n := phonenumbers.GetExampleNumberForType(region, typ); n != nil {
				out[region] = append(out[region], n)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			out["001"] = append(out["001"], n)
		}
	}
	if len(out) < 240 {
		t.Fatalf("example numbers for only %d regions", len(out))
	}
	return out
}

// variants are the ways a person may type the number: national and
// international formats, E.164, dialled from abroad, the calling code
// without +, and near misses.
func variants(n *phonenumbers.PhoneNumber, from string) []string {
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	cc := strconv.Itoa(int(n.GetCountryCode()))
	v := []string{
		nsn,
		phonenumbers.Format(n, phonenumbers.NATIONAL),
		phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
		phonenumbers.Format(n, phonenumbers.E164),
		phonenumbers.FormatOutOfCountryCallingNumber(n, from),
		cc + nsn,
		"(" + nsn[:2] + ") " + nsn[2:],
		"0" + nsn, "1" + nsn, "00" + cc + nsn, "011" + cc + nsn, "+" + nsn, "+0" + nsn, "+" + cc + "0" + nsn,
		nsn[:len(nsn)-1], nsn + "5", "+" + cc + nsn[:len(nsn)-1], "+" + cc + nsn + "0",
	}
	for d := '0'; d <= '9'; d++ {
		v = append(v, string(d)+nsn[1:], "+"+cc+string(d)+nsn[1:])
	}
	return v
}

func TestE164AgreesWithLibphonenumber(t *testing.T) {
	compared := 0
	for region, nums := range examples(t) {
		for _, n := range nums {
			from := region
			if region == "001" {
				from = "US"
			}
			for _, in := range variants(n, from) {
				compare(t, from, in, &compared)
				for _, home := range homes {
					compare(t, home, in, &compared)
				}
			}
		}
	}
	t.Logf("%d answers compared with %s", compared, metadataSource)
	if compared < 300_000 {
		t.Errorf("only %d answers compared", compared)
	}
}

// Numbers written with a national prefix that libphonenumber rewrites (its
// transform rules) or with a carrier code, as people in those countries
// write them; the examples do not have this form.
func TestE164AgreesOnNationalPrefixes(t *testing.T) {
	compared := 0
	for _, c := range []struct{ region, number string }{
		{"AR", "011 15-2345-6789"}, {"AR", "0 11 15 2345 6789"}, {"AR", "(011) 15 2345-6789"}, {"AR", "11 15 2345 6789"},
		{"AR", "0351 15 234-5678"}, {"AR", "0 2982 15 12 3456"}, {"AR", "011 2345-6789"}, {"AR", "+54 9 11 2345 6789"},
		{"BR", "0 15 21 2123-4567"}, {"BR", "0 21 2123-4567"}, {"BR", "015 11 96123-4567"}, {"BR", "90 21 11 96123 4567"},
		{"BR", "(11) 96123-4567"}, {"CO", "03 1 2345678"}, {"MX", "044 55 1234 5678"}, {"MX", "01 55 1234 5678"},
		{"CC", "9162 1234"}, {"CX", "5555 1234"}, {"AG", "462-1234"}, {"AG", "1 268 462 1234"}, {"BS", "(242) 357-1234"},
		{"KR", "0 2 1234 5678"}, {"KR", "010-1234-5678"}, {"UZ", "8 66 905 0123"}, {"BY", "8 029 491 1911"}, {"RU", "8 912 345 67 89"},
	} {
		compare(t, c.region, c.number, &compared)
	}
}

// Example numbers edited at random: cut short, lengthened, and behind the
// prefixes people dial (trunk prefixes, carrier codes, calling codes).
func TestE164AgreesOnEditedExamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 16))
	prefixes := []string{"", "", "0", "1", "8", "9", "00", "01", "011", "15", "0 15 ", "90", "044 ", "8 0", "+", "+1", "+7", "+44", "+54 9 "}
	compared := 0
	for region, nums := range examples(t) {
		if region == "001" {
			continue
		}
		for _, n := range nums {
			nsn := phonenumbers.GetNationalSignificantNumber(n)
			for range 60 {
				digits := nsn[:1+rng.IntN(len(nsn))]
				for range rng.IntN(4) {
					digits += string(byte('0' + rng.IntN(10)))
				}
				if rng.IntN(2) == 0 {
					digits = digits[:len(digits)/2] + " " + digits[len(digits)/2:]
				}
				compare(t, region, prefixes[rng.IntN(len(prefixes))]+digits, &compared)
			}
		}
	}
	t.Logf("%d edited examples compared", compared)
}

// Random digits, with and without a +, from every region: nearly all
// invalid, and the library and E164 must refuse the same ones.
func TestE164AgreesOnRandomDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2026))
	compared := 0
	for region := range phonenumbers.GetSupportedRegions() {
		for range 150 {
			var b strings.Builder
			if rng.IntN(3) == 0 {
				b.WriteByte('+')
			}
			for range 2 + rng.IntN(16) {
				b.WriteByte(byte('0' + rng.IntN(10)))
				if rng.IntN(6) == 0 {
					b.WriteByte(" -.()/"[rng.IntN(6)])
				}
			}
			compare(t, region, b.String(), &compared)
		}
	}
	t.Logf("%d random inputs compared", compared)
}

func TestE164Refuses(t *testing.T) {
	for _, c := range []struct{ region, number string }{
		{"US", "1-800-FLOWERS"},       // letters: the library reads them, E164 does not
		{"US", "650 253 0000 ext. 1"}, // extensions
		{"US", "tel:+1-650-253-0000"},
		{"US", "６５０２５３００００"}, // full-width digits
		{"US", "650+2530000"},
		{"US", "++16502530000"},
		{"US", ""},
		{"US", "  "},
		{"US", "+"},
		{"US", "1"},
	} {
		if got, err := E164(c.region, c.number); err != ErrNumber {
			t.Errorf("E164(%q, %q) = %q, %v, want ErrNumber", c.region, c.number, got, err)
		}
	}
	for _, region := range []string{"", "U", "us", "USA", "XX", "ZZ", "001"} {
		if _, err := E164(region, "6502530000"); err != ErrRegion {
			t.Errorf("E164(%q, ...) = %v, want ErrRegion", region, err)
		}
	}
	for region := range phonenumbers.GetSupportedRegions() {
		if got, want := CallingCode(region), phonenumbers.GetCountryCodeForRegion(region); got != want {
			t.Errorf("CallingCode(%s) = %d, the library says %d", region, got, want)
		}
	}
	if CallingCode("ZZ") != 0 || CallingCode("001") != 0 {
		t.Error("CallingCode of an unknown region is not 0")
	}
}

// metadata.go is what tools/phonemeta writes from the library go.mod
// names: after an update of the library, go generate ./internal/phone.
func TestMetadataIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator")
	}
	out := filepath.Join(t.TempDir(), "metadata.go")
	cmd := exec.Command("go", "run", "./tools/phonemeta", "-o", out)
	cmd.Dir = "../.."
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tools/phonemeta: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("metadata.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("internal/phone/metadata.go is not what tools/phonemeta writes: run go generate ./internal/phone")
	}
}

// The server must not link the library whose start-up cost this package
// exists to avoid.
func TestServerDoesNotLinkPhonenumbers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-deps", "./cmd/profiled")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("github.com/nyaruka/phonenumbers")) {
		t.Error("cmd/profiled links github.com/nyaruka/phonenumbers again: use internal/phone")
	}
}

// FuzzE164 looks for input on which E164 and the library disagree, or
// E164 fails in any other way: go test -fuzz FuzzE164 ./internal/phone
func FuzzE164(f *testing.F) {
	for _, seed := range []struct{ region, number string }{
		{"US", "(650) 253-0000"}, {"GB", "+44 20 7946 0018"}, {"AR", "011 15-2345-6789"},
		{"BR", "0 15 21 2123-4567"}, {"DE", "00 1 650 253 0000"}, {"IT", "06 6982 0000"},
	} {
		f.Add(seed.region, seed.number)
	}
	f.Fuzz(func(t *testing.T, region, number string) {
		if len(number) > 64 || !typed(number) {
			E164(region, number) // must not panic either
			return
		}
		if CallingCode(region) == 0 {
			if _, err := E164(region, number); err != ErrRegion {
				t.Fatalf("E164(%q, %q): %v, want ErrRegion", region, number, err)
			}
			return
		}
		n := 0
		compare(t, region, number, &n)
	})
}
