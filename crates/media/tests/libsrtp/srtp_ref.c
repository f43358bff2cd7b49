/* A test helper around libsrtp 2 (the reference SRTP implementation), for the round trip of
 * crates/media/tests/srtp_libsrtp.rs: an implementation independent of the one callrec uses.
 *
 *   srtp_ref protect|unprotect SUITE KEY_HEX   (SUITE: 80, 32 or 256_80)
 *
 * Reads one packet per line in hex on stdin; writes the protected (or unprotected) packet in
 * hex, or "ERR <libsrtp status>", one line each. */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *s, unsigned char *out, int max) {
    int n = 0;
    while (s[0] && s[1] && s[0] != '\n') {
        unsigned int b;
        if (n >= max || sscanf(s, "%2x", &b) != 1) return -1;
        out[n++] = (unsigned char)b;
        s += 2;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: srtp_ref protect|unprotect SUITE KEY_HEX\n");
        return 2;
    }
    int protect = strcmp(argv[1], "protect") == 0;
    if (srtp_init() != srtp_err_status_ok) return 3;
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (strcmp(argv[2], "80") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    } else if (strcmp(argv[2], "32") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
    } else if (strcmp(argv[2], "256_80") == 0) {
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&policy.rtp);
    } else {
        return 2;
    }
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
    unsigned char key[64];
    if (unhex(argv[3], key, sizeof key) < 30) return 2;
    policy.key = key;
    policy.ssrc.type = protect ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 128;
    policy.next = NULL;
    srtp_t session;
    srtp_err_status_t st = srtp_create(&session, &policy);
    if (st != srtp_err_status_ok) {
        fprintf(stderr, "srtp_create: %d\n", st);
        return 4;
    }
    char line[8192];
    unsigned char pkt[4096];
    while (fgets(line, sizeof line, stdin)) {
        int len = unhex(line, pkt, 4000);
        if (len < 12) {
            printf("ERR bad-input\n");
        } else {
            st = protect ? srtp_protect(session, pkt, &len) : srtp_unprotect(session, pkt, &len);
            if (st != srtp_err_status_ok) {
                printf("ERR %d\n", st);
            } else {
                for (int i = 0; i < len; i++) printf("%02x", pkt[i]);
                printf("\n");
            }
        }
        fflush(stdout);
    }
    srtp_dealloc(session);
    return 0;
}
