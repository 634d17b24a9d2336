# CLD2 with pycld2's exact settings, for WSDM-compatible language labels (lib/language-id.ts).
# The CLD2 sources are the ones the `cld` npm package ships; the table list is pycld2 0.42's
# (its setup.py), so that both score with the same tables. The `cld` package's own binding always
# asks CLD2 for result chunks, which turns off CLD2's squeezing of repetitive text and changes
# some labels (2 of 1,998 texts of the LMSYS sample).
{
  "targets": [
    {
      "target_name": "cld2_polyglot",
      "sources": [
        "cld2_polyglot.cc",
        "<(cld)/cld2_generated_cjk_compatible.cc",
        "<(cld)/cld2_generated_deltaocta0122.cc",
        "<(cld)/cld2_generated_distinctocta0122.cc",
        "<(cld)/cld2_generated_quad0122.cc",
        "<(cld)/cld_generated_cjk_delta_bi_32.cc",
        "<(cld)/cld_generated_cjk_uni_prop_80.cc",
        "<(cld)/cld_generated_score_quad_octa_0122.cc",
        "<(cld)/cldutil.cc",
        "<(cld)/cldutil_shared.cc",
        "<(cld)/compact_lang_det.cc",
        "<(cld)/compact_lang_det_hint_code.cc",
        "<(cld)/compact_lang_det_impl.cc",
        "<(cld)/debug.cc",
        "<(cld)/fixunicodevalue.cc",
        "<(cld)/generated_distinct_bi_0.cc",
        "<(cld)/generated_entities.cc",
        "<(cld)/generated_language.cc",
        "<(cld)/generated_ulscript.cc",
        "<(cld)/getonescriptspan.cc",
        "<(cld)/lang_script.cc",
        "<(cld)/offsetmap.cc",
        "<(cld)/scoreonescriptspan.cc",
        "<(cld)/tote.cc",
        "<(cld)/utf8statetable.cc"
      ],
      "variables": { "cld": "../../node_modules/cld/deps/cld/internal" },
      "include_dirs": ["../../node_modules/cld/deps/cld/public", "../../node_modules/cld/deps/cld/internal", "../../node_modules/node-addon-api"],
      "defines": ["NAPI_VERSION=4", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-w"]
    }
  ]
}
