#pragma once
/// NoteAttribution: token scores -> words and phrases of the note (English and Chinese), negation cues.
///
///   std::vector<explain::TokenScore> t = ...;   // byte span + score per model token
///   auto a = explain::aggregateNote(note, t);   // a.words, a.phrases (clauses split at punctuation)
///
/// Words: maximal runs of letters/digits (English) joined across tokenizer pieces; each CJK ideograph
/// run between punctuation, spaces and ASCII is one word (no dictionary segmentation). Phrases: clauses
/// split at . , ; : ! ? newline and their full-width forms (。，；：！？、). A phrase is negated when it
/// holds a cue (no, not, denies, denied, without, negative, never, 否认, 无, 没有, 未, 不, 阴性).
#include <cstddef>
#include <string>
#include <vector>

#include "explain/Explanation.h"

namespace explain {

struct TokenScore {
  std::size_t begin = 0, end = 0;
  double score = 0;
};

NoteAttributions aggregateNote(const std::string& note, const std::vector<TokenScore>& tokens);
/// Phrase spans (byte ranges) of the note, in order, without surrounding whitespace.
std::vector<std::pair<std::size_t, std::size_t>> splitPhrases(const std::string& note);
bool isNegated(const std::string& phrase);

}  // namespace explain
