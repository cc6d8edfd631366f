// CompletionLedger: the conservation check behind /proc/iouring's Lost and Duplicated. These
// tests feed it broken histories directly, so the check is shown able to fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "iouring/completion_ledger.h"

namespace {

using toyos::iouring::CompletionLedger;

TEST(CompletionLedger, InOrderCompletionsBalance) {
    CompletionLedger l;
    for (uint64_t s = 1; s <= 1000; ++s) EXPECT_TRUE(l.record(s));
    l.close(1001);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 0u);
}

TEST(CompletionLedger, OutOfOrderAcrossAWideWindowBalances) {
    // One operation stays in flight while 100k others complete: the window grows past its
    // first size and still accounts every number once.
    CompletionLedger l;
    std::vector<uint64_t> seqs(100'000);
    std::iota(seqs.begin(), seqs.end(), 2);
    std::shuffle(seqs.begin(), seqs.end(), std::mt19937_64(7));
    for (uint64_t s : seqs) ASSERT_TRUE(l.record(s));
    EXPECT_EQ(l.completed_below(), 1u);
    EXPECT_TRUE(l.record(1));
    EXPECT_GE(l.completed_below(), 100'000u - 63);
    l.close(100'002);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 0u);
}

TEST(CompletionLedger, AnOperationPendingForeverCostsOneEntryNotAGrowingWindow) {
    // Seq 1 (say an ACCEPT) stays open while two million others complete.
    CompletionLedger l;
    for (uint64_t s = 2; s <= 2'000'001; ++s) ASSERT_TRUE(l.record(s));
    EXPECT_LE(l.window_words(), CompletionLedger::kMaxWindowWords);
    EXPECT_EQ(l.stragglers(), 1u);
    EXPECT_FALSE(l.record(1'000'000));  // evicted as done: a second completion is caught
    EXPECT_TRUE(l.record(1));
    EXPECT_EQ(l.stragglers(), 0u);
    EXPECT_FALSE(l.record(1));
    l.close(2'000'002);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 2u);
}

TEST(CompletionLedger, AStragglerNeverCompletedIsLost) {
    CompletionLedger l;
    const uint64_t n = 64 * CompletionLedger::kMaxWindowWords + 1000;
    for (uint64_t s = 1; s <= n; ++s)
        if (s != 5 && s != 70) l.record(s);
    EXPECT_EQ(l.stragglers(), 2u);
    l.close(n + 1);
    EXPECT_EQ(l.lost(), 2u);
    EXPECT_EQ(l.duplicated(), 0u);
}

TEST(CompletionLedger, DetectsADuplicateInsideAndBehindTheWindow) {
    CompletionLedger l;
    EXPECT_TRUE(l.record(3));
    EXPECT_FALSE(l.record(3));  // inside the window
    for (uint64_t s = 4; s <= 200; ++s) EXPECT_TRUE(l.record(s));
    EXPECT_TRUE(l.record(1));
    EXPECT_TRUE(l.record(2));
    EXPECT_FALSE(l.record(5));  // the window has slid past it
    EXPECT_FALSE(l.record(0));  // never given (a reset request)
    EXPECT_EQ(l.duplicated(), 3u);
    l.close(201);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 3u);
}

TEST(CompletionLedger, DetectsLostNumbersAtClose) {
    CompletionLedger l;
    for (uint64_t s = 1; s <= 100; ++s)
        if (s != 10 && s != 77) l.record(s);
    // 101..5000 were accepted too and never completed: beyond the window as well.
    l.close(5001);
    EXPECT_EQ(l.lost(), 2u + 4900u);
    EXPECT_EQ(l.duplicated(), 0u);
}

TEST(CompletionLedger, ACompletionForANumberNeverGivenIsADuplicate) {
    CompletionLedger l;
    l.record(1);
    l.record(2);
    l.record(9);  // only 1 and 2 were accepted
    l.close(3);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 1u);
    EXPECT_FALSE(l.record(2));  // after close, anything is a duplicate
    EXPECT_EQ(l.duplicated(), 2u);
}

// note()/flush(): the ring's batched form. Runs of consecutive numbers are applied a word at a
// time; what breaks a run (out of order, a duplicate, a number behind or beyond the window)
// takes the general path, and the duplicates are counted when flushed.
TEST(CompletionLedger, NotedRunsBalanceLikeRecords) {
    CompletionLedger l;
    for (uint64_t s = 1; s <= 1000; ++s) l.note(s);
    EXPECT_EQ(l.flush(), 0u);
    EXPECT_EQ(l.completed_below(), 961u);  // whole words: 15 x 64 + 1
    // Out of order, in runs of 10 across word edges and across a window growth.
    std::vector<uint64_t> starts;
    for (uint64_t b = 1001; b < 1001 + 5000; b += 10) starts.push_back(b);
    std::shuffle(starts.begin(), starts.end(), std::mt19937_64(3));
    for (uint64_t b : starts)
        for (uint64_t s = b; s < b + 10; ++s) l.note(s);
    EXPECT_EQ(l.flush(), 0u);
    l.close(6001);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 0u);
}

TEST(CompletionLedger, NotedDuplicatesAreFoundWhenFlushed) {
    CompletionLedger l;
    for (uint64_t s = 1; s <= 100; ++s) l.note(s);
    l.note(50);  // breaks the run: 1..100 are applied, then 50 again
    l.note(51);
    EXPECT_EQ(l.flush(), 2u);
    EXPECT_EQ(l.duplicated(), 2u);
    l.note(0);  // never given: behind the window
    EXPECT_EQ(l.flush(), 1u);
    l.note(102);   // 101 is never completed
    l.close(103);  // close flushes what is noted
    EXPECT_EQ(l.lost(), 1u);
    EXPECT_EQ(l.duplicated(), 3u);
}

TEST(CompletionLedger, ADuplicateInARunThatANoteBreaksIsReportedByTheNextFlush) {
    CompletionLedger l;
    l.note(1);
    l.note(1);  // breaks the run [1, 2): it is applied, and 1 starts a new one
    l.note(2);  // extends it: [1, 3)
    l.note(9);  // breaks it: applying [1, 3) finds 1 again
    EXPECT_EQ(l.duplicated(), 1u);
    EXPECT_EQ(l.flush(), 1u);  // reported once, by the flush that follows
    EXPECT_EQ(l.flush(), 0u);
}

// The ring counts its completions from noted() and applies a run only once it is long
// (flush_if_longer), or where it breaks.
TEST(CompletionLedger, NotedCountsEveryCompletionAppliedOrNot) {
    CompletionLedger l;
    for (uint64_t s = 1; s <= 300; ++s) l.note(s);
    EXPECT_EQ(l.noted(), 300u);
    EXPECT_EQ(l.flush_if_longer(512), 0u);
    EXPECT_EQ(l.completed_below(), 1u);  // still only noted
    l.note(7);                           // a duplicate breaks the run: 1..300 applied
    EXPECT_EQ(l.noted(), 301u);
    l.note(8);                              // a duplicate too, inside the new run [7, 9)
    EXPECT_EQ(l.flush_if_longer(512), 0u);  // the run is short: not applied yet
    EXPECT_EQ(l.flush_if_longer(2), 2u);    // now it is
    EXPECT_EQ(l.noted(), 302u);
    EXPECT_EQ(l.duplicated(), 2u);
}

TEST(CompletionLedger, ALongRunFromTheWindowsStartSlidesWholeWordsAndFindsDuplicates) {
    CompletionLedger l;
    l.note(70);  // out of order: word 1 has a bit set
    l.note(5);   // breaks that run, starts another
    EXPECT_EQ(l.flush(), 0u);
    // 1..1'000'000 in order: far longer than the window (1024 numbers at first), and 5 and 70
    // are completed again.
    for (uint64_t s = 1; s <= 1'000'000; ++s) l.note(s);
    EXPECT_EQ(l.flush(), 2u);
    EXPECT_EQ(l.window_words(), 16u);            // it never had to grow
    EXPECT_EQ(l.completed_below(), 1'000'001u);  // 15625 whole words
    l.close(1'000'001);
    EXPECT_EQ(l.lost(), 0u);
    EXPECT_EQ(l.duplicated(), 2u);
}

}  // namespace
