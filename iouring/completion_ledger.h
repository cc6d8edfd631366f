// CompletionLedger: conservation accounting for one ring. Every accepted submission has a
// sequence number (dense, from 1); the ledger records each completion against its number and
// counts what breaks the rule "exactly one completion per accepted submission": a completion
// for a number that already completed (or was never given) is a duplicate, and a number still
// without a completion when the ring is torn down is lost.
//
// A bit per sequence number, kept only for the window between the oldest number not yet
// completed and the newest completed; the window slides as completions arrive in any order.
// It grows (rarely: only when that span grows) up to kMaxWindowWords; past that, the numbers
// still open at its old end move to a sorted list of stragglers (an ACCEPT waiting for days
// costs one entry, not a bit per operation completed since). Growing and evicting are the only
// allocations. Not thread-safe: the ring calls it under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace toyos::iouring {

class CompletionLedger {
  public:
    CompletionLedger();

    // A completion for `seq`, applied at once. False (and counted) if it is a duplicate.
    // The direct form (apply_run's general path uses it): it does not count in noted(), so
    // a ring that counts its completions from noted() uses note() only.
    bool record(uint64_t seq);
    // Teardown: every number below `next_seq` was accepted and must have completed. Counts the
    // ones that did not as lost, and any completion recorded for a number never given as a
    // duplicate. Call once; later records count as duplicates of closed numbers.
    void close(uint64_t next_seq);

    // The hot path's form: completions noted as a run of consecutive numbers (a batch that
    // completes in order costs a compare and an increment each), applied to the window a
    // word at a time by flush(). A noted duplicate is found, and counted, when flushed.
    void note(uint64_t seq) {
        if (seq == run_end_) [[likely]] {
            ++run_end_;
            return;
        }
        unreported_duplicates_ += apply_run();
        run_begin_ = seq;
        run_end_ = seq + 1;
    }
    // Applies the noted run; returns the duplicates noted since the last flush().
    uint64_t flush() {
        const uint64_t d = unreported_duplicates_ + apply_run();
        unreported_duplicates_ = 0;
        return d;
    }
    // The same once the run has `max_run` numbers; before that, only the duplicates found so
    // far (a run is applied anyway where it breaks, which a duplicate always does, so one
    // shows within `max_run` further completions, or at close()).
    uint64_t flush_if_longer(uint64_t max_run) {
        if (run_end_ - run_begin_ >= max_run) return flush();
        const uint64_t d = unreported_duplicates_;
        unreported_duplicates_ = 0;
        return d;
    }
    // Completions noted so far, applied or not.
    uint64_t noted() const { return applied_ + (run_end_ - run_begin_); }

    uint64_t duplicated() const { return duplicated_; }
    uint64_t lost() const { return lost_; }
    // Sequence numbers below this all completed exactly once, but for the stragglers.
    uint64_t completed_below() const { return base_; }
    size_t window_words() const { return words_.size(); }
    size_t stragglers() const { return stragglers_.size(); }

    static constexpr size_t kMaxWindowWords = 4096;  // 262144 numbers: 32 KiB

  private:
    static constexpr uint64_t kBits = 64;
    uint64_t& word(uint64_t index) { return words_[(head_ + index) & (words_.size() - 1)]; }
    void grow(uint64_t words_needed);
    uint64_t apply_run();  // the noted run into the window; the duplicates it held
    void slide();
    void evict_oldest();  // the first word's open numbers become stragglers
    bool record_straggler(uint64_t seq);

    uint64_t base_ = 1;                 // the window starts here (sequence numbers start at 1)
    std::vector<uint64_t> words_;       // ring buffer of bit words; size a power of two
    uint64_t head_ = 0;                 // the word that holds `base_`
    std::vector<uint64_t> stragglers_;  // numbers below base_ still open, ascending
    uint64_t run_begin_ = 1;            // noted, not yet applied: [run_begin_, run_end_)
    uint64_t run_end_ = 1;
    uint64_t unreported_duplicates_ = 0;  // found by runs applied inside note()
    uint64_t applied_ = 0;                // numbers in the runs applied so far
    uint64_t duplicated_ = 0;
    uint64_t lost_ = 0;
    bool closed_ = false;
};

}  // namespace toyos::iouring
