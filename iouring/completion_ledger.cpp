#include "iouring/completion_ledger.h"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace toyos::iouring {

namespace {
constexpr size_t kInitialWords = 16;  // 1024 sequence numbers in flight before any growth
}

CompletionLedger::CompletionLedger() : words_(kInitialWords, 0) {}

bool CompletionLedger::record(uint64_t seq) {
    if (closed_) {
        ++duplicated_;
        return false;
    }
    if (seq < base_) return record_straggler(seq);
    // The window starts at bit 0 of the head word: base_ is the first number of a word.
    uint64_t index = (seq - base_) / kBits;
    while (index >= words_.size() && words_.size() >= kMaxWindowWords) {
        evict_oldest();
        index = (seq - base_) / kBits;
    }
    if (index >= words_.size()) grow(index + 1);
    uint64_t& w = word(index);
    const uint64_t bit = uint64_t{1} << ((seq - base_) % kBits);
    if (w & bit) {
        ++duplicated_;
        return false;
    }
    w |= bit;
    slide();
    return true;
}

uint64_t CompletionLedger::apply_run() {
    const uint64_t begin = run_begin_, end = run_end_;
    run_begin_ = end;  // empty; a completion for `end` extends it
    if (begin == end) return 0;
    applied_ += end - begin;
    const uint64_t before = duplicated_;
    uint64_t s = begin;
    // Whole words from the window's start (an in-order run, the usual case): what each had
    // set is a duplicate, and it slides out at once, however long the run.
    while (!closed_ && s == base_ && end - s >= kBits) {
        uint64_t& w = word(0);
        if (w != 0) [[unlikely]]
            duplicated_ += static_cast<uint64_t>(std::popcount(w));
        w = 0;
        head_ = (head_ + 1) & (words_.size() - 1);
        base_ += kBits;
        s += kBits;
    }
    if (closed_ || s < base_ || end - base_ > words_.size() * kBits) {
        for (; s < end; ++s) (void)record(s);  // the general path
        return duplicated_ - before;
    }
    // The rest, inside the window: a word at a time (base_ is the first number of word 0).
    while (s < end) {
        const uint64_t off = s - base_;
        const uint64_t first = off % kBits;
        const uint64_t n = std::min<uint64_t>(kBits - first, end - s);
        const uint64_t mask = (n == kBits ? ~uint64_t{0} : (uint64_t{1} << n) - 1) << first;
        uint64_t& w = word(off / kBits);
        if (w & mask) [[unlikely]]
            duplicated_ += static_cast<uint64_t>(std::popcount(w & mask));
        w |= mask;
        s += n;
    }
    slide();
    return duplicated_ - before;
}

// Past every word whose numbers all completed.
void CompletionLedger::slide() {
    while (word(0) == ~uint64_t{0}) {
        word(0) = 0;
        head_ = (head_ + 1) & (words_.size() - 1);
        base_ += kBits;
    }
}

void CompletionLedger::evict_oldest() {
    const uint64_t w = word(0);
    for (uint64_t b = 0; b < kBits; ++b)
        if (!((w >> b) & 1)) stragglers_.push_back(base_ + b);  // above every earlier one
    word(0) = ~uint64_t{0};
    slide();
}

bool CompletionLedger::record_straggler(uint64_t seq) {
    auto it = std::lower_bound(stragglers_.begin(), stragglers_.end(), seq);
    if (it == stragglers_.end() || *it != seq) {
        ++duplicated_;  // below the window and not open: it completed before, or never existed
        return false;
    }
    stragglers_.erase(it);
    return true;
}

void CompletionLedger::grow(uint64_t words_needed) {
    std::vector<uint64_t> bigger(std::bit_ceil(words_needed), 0);
    for (uint64_t i = 0; i < words_.size(); ++i) bigger[i] = word(i);
    words_.swap(bigger);
    head_ = 0;
}

void CompletionLedger::close(uint64_t next_seq) {
    if (closed_) return;
    flush();
    closed_ = true;
    lost_ += stragglers_.size();  // all were accepted: they are below base_
    for (uint64_t i = 0; i < words_.size(); ++i) {
        const uint64_t w = word(i);
        const uint64_t first = base_ + i * kBits;
        for (uint64_t b = 0; b < kBits; ++b) {
            const uint64_t seq = first + b;
            const bool done = (w >> b) & 1;
            if (seq < next_seq && !done) ++lost_;
            if (seq >= next_seq && done) ++duplicated_;
        }
    }
    // Numbers beyond the window (given, never completed, never seen).
    const uint64_t window_end = base_ + words_.size() * kBits;
    if (next_seq > window_end) lost_ += next_seq - window_end;
}

}  // namespace toyos::iouring
