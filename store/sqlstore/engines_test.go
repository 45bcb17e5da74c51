package sqlstore_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// engineStatements are the statements of the engines that name a table
// both schemas have, each with why it cannot be written here once.
var engineStatements = map[string]string{
	// The check before migration 00093 that SQLite's SQL cannot raise as
	// an error naming the clashes; PostgreSQL's migration does it itself.
	"sqlite.go: users": "migration 00093's check",
}

// TestEveryStatementOnce holds issue 12's first rule: a statement over
// profiled's tables is written once, in this package, for both engines.
// It reads the engines' source and fails on any string literal there
// that reads or writes a table of both schemas, unless engineStatements
// says why it must be there. Tables only one engine has (SQLite's
// auth_generation) and the engines' own catalog queries are theirs.
func TestEveryStatementOnce(t *testing.T) {
	tables := sharedTables(t)
	if len(tables) < 20 {
		t.Fatalf("found only %d tables in both schemas: %v", len(tables), tables)
	}
	dml := regexp.MustCompile(`(?i)\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)`)
	found := map[string]bool{}
	for _, engine := range []string{"sqlite", "postgres"} {
		files, err := filepath.Glob(filepath.Join("..", engine, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in store/%s: %v", engine, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
				}
				for _, m := range dml.FindAllStringSubmatch(s, -1) {
					table := strings.ToLower(m[1])
					if !slices.Contains(tables, table) {
						continue
					}
					key := filepath.Base(file) + ": " + table
					if _, ok := engineStatements[key]; ok {
						found[key] = true
						continue
					}
					t.Errorf("%s: a statement over %s belongs in store/sqlstore, written once for both engines (or, if it cannot be, in engineStatements with why): %q",
						fset.Position(lit.Pos()), table, s)
				}
				return true
			})
		}
	}
	for key, why := range engineStatements {
		if !found[key] {
			t.Errorf("engineStatements names %q (%s), which no engine holds any more: remove it", key, why)
		}
	}
}

// sharedTables are the tables the migrations of both engines create.
func sharedTables(t *testing.T) []string {
	create := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	var perEngine [2][]string
	for i, engine := range []string{"sqlite", "postgres"} {
		files, err := filepath.Glob(filepath.Join("..", engine, "migrations", "*.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no migrations in store/%s: %v", engine, err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range create.FindAllStringSubmatch(string(b), -1) {
				perEngine[i] = append(perEngine[i], strings.ToLower(m[1]))
			}
		}
	}
	var both []string
	for _, table := range perEngine[0] {
		if slices.Contains(perEngine[1], table) && !slices.Contains(both, table) {
			both = append(both, table)
		}
	}
	return both
}
