// One CLD2 call as pycld2.detect(text, bestEffort=...) makes it: HTML mode (pycld2's default
// isPlainText=False), no hints, no result chunks, input checked for interchange-valid UTF-8.
#include <napi.h>
#include <string>
#include "compact_lang_det.h"
#include "encodings.h"

// detect(text: string, bestEffort: boolean) -> { valid, reliable, code }: `valid` false where
// pycld2 raises (text that is not interchange-valid UTF-8), `code` the top of CLD2's three choices.
static Napi::Value Detect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) {
    Napi::TypeError::New(env, "detect(text: string, bestEffort: boolean)").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string text = info[0].As<Napi::String>().Utf8Value();
  int flags = info[1].ToBoolean().Value() ? CLD2::kCLDFlagBestEffort : 0;
  CLD2::CLDHints hints = {NULL, NULL, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
  CLD2::Language language3[3];
  int percent3[3];
  double score3[3];
  int textBytes = 0;
  bool reliable = false;
  int validPrefix = 0;
  CLD2::ExtDetectLanguageSummaryCheckUTF8(text.data(), static_cast<int>(text.size()), false, &hints, flags,
                                          language3, percent3, score3, NULL, &textBytes, &reliable, &validPrefix);
  Napi::Object result = Napi::Object::New(env);
  result.Set("valid", Napi::Boolean::New(env, validPrefix == static_cast<int>(text.size())));
  result.Set("reliable", Napi::Boolean::New(env, reliable));
  result.Set("code", Napi::String::New(env, CLD2::LanguageCode(language3[0])));
  return result;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("detect", Napi::Function::New(env, Detect));
  return exports;
}

NODE_API_MODULE(cld2_polyglot, Init)
