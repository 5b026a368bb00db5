package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
)

// bilingual is an error said in Chinese and in English, written
// "中文 / English" as everything a person reads in this project is. Errors
// that wrap one add their words to each side, so a message never turns
// into Chinese, English, then Chinese again.
type bilingual struct {
	ZH, EN string
	Err    error // what it wraps (for errors.Is and errors.As), or nil
}

func (e *bilingual) Error() string { return e.ZH + " / " + e.EN }
func (e *bilingual) Unwrap() error { return e.Err }

func bi(zh, en string) error { return &bilingual{ZH: zh, EN: en} }

// wrapBi puts zh and en before the two sides of err. An error that is not
// bilingual (it should not happen) is kept whole on the English side.
func wrapBi(err error, zh, en string) error {
	var b *bilingual
	if errors.As(err, &b) {
		return &bilingual{ZH: zh + b.ZH, EN: en + b.EN, Err: err}
	}
	return &bilingual{ZH: zh + "（详见英文）", EN: en + err.Error(), Err: err}
}

var reUnknownField = regexp.MustCompile(`unknown [a-z ]*"([^"]*)"`)

// jsonError says why data does not decode, in both languages, with the
// line and column of a syntax error.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return &bilingual{ZH: fmt.Sprintf("第 %d 行第 %d 列 JSON 语法错误", line, col),
			EN: fmt.Sprintf("line %d column %d: %v", line, col, err), Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "（顶层）"
		}
		return &bilingual{ZH: fmt.Sprintf("字段 %s 的类型不对（应为 %s，却是 JSON %s）", field, typ.Type, typ.Value),
			EN: err.Error(), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &bilingual{ZH: "JSON 不完整，文件提前结束", EN: "the JSON is incomplete (unexpected EOF)", Err: err}
	case errors.Is(err, io.EOF):
		return &bilingual{ZH: "文件是空的", EN: "the file is empty", Err: err}
	}
	if m := reUnknownField.FindStringSubmatch(err.Error()); m != nil {
		return &bilingual{ZH: fmt.Sprintf("未知字段 “%s”（拼写错误？）", m[1]), EN: fmt.Sprintf("unknown field %q (misspelt?)", m[1]), Err: err}
	}
	return &bilingual{ZH: "JSON 无效", EN: err.Error(), Err: err}
}

// fileError says that a file could not be read or written, and why, in
// both languages; it wraps err (errors.Is(err, fs.ErrNotExist) still
// holds). FileError is the same for the onething command.
func fileError(opZH, opEN, path string, err error) error {
	var why string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = "文件或目录不存在"
	case errors.Is(err, fs.ErrPermission):
		why = "没有权限"
	case errors.Is(err, fs.ErrExist):
		why = "文件已存在"
	default:
		why = "操作系统报错（详见英文）"
	}
	en := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		en = pe.Err.Error() // the path is said once, below
	}
	return &bilingual{ZH: fmt.Sprintf("无法%s %s：%s", opZH, path, why), EN: fmt.Sprintf("cannot %s %s: %s", opEN, path, en), Err: err}
}

// FileError is fileError for the command line: "无法读取 x：文件或目录不存在 /
// cannot read x: no such file or directory".
func FileError(opZH, opEN, path string, err error) error {
	return fileError(opZH, opEN, path, err)
}

// Wrap puts zh and en before the two sides of a bilingual error of this
// package, dropping the "calendar: " tag of the error it is given (the
// command line has its own); errors.Is and errors.As see through it.
func Wrap(err error, zh, en string) error {
	if err == nil {
		return nil
	}
	return wrapBi(err, zh, en)
}
