/*
 * co-test.h: what the coroutine test programs share.  Under AddressSanitizer
 * or ThreadSanitizer a coroutine switch costs about a microsecond (and a
 * stack map/unmap under ThreadSanitizer ~14 ms), so loops that count in the
 * hundreds of thousands are scaled down there; each test says by how much.
 * Header-only.
 */
#ifndef TESTS_AIO_CO_TEST_H
#define TESTS_AIO_CO_TEST_H

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CO_TEST_UNDER_SANITIZER 1
#endif
#ifdef __has_feature
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CO_TEST_UNDER_SANITIZER 1
#endif
#endif

/* @full, or @full / @divisor under a sanitizer. */
static inline long co_test_scaled(long full, long divisor)
{
#ifdef CO_TEST_UNDER_SANITIZER
    return full / divisor;
#else
    (void)divisor;
    return full;
#endif
}

#endif /* TESTS_AIO_CO_TEST_H */
