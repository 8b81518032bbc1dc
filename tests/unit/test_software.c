/* test_software.c — the product table against recorded greetings, IMAP ID
 * answers and POP3 IMPLEMENTATION texts; the ID request; the evidence order. */
#include "tests/unit/test.h"
#include "probe_drive.h"
#include "probes/software.h"

struct banner_case {
	enum mc_proto proto;
	const char *banner;
	const char *product; /* NULL: must not be identified */
	const char *version;
	const char *cpe;
};

/* Greetings as servers send them (CRLF stripped); hostnames and stamps are
 * from documentation and public scan write-ups, shortened. */
static const struct banner_case banners[] = {
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
     "AUTH=PLAIN] Dovecot (Debian) ready.",
     "Dovecot", "", "cpe:2.3:a:dovecot:dovecot:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Dovecot ready.", "Dovecot", "",
     "cpe:2.3:a:dovecot:dovecot:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK [CAPABILITY IMAP4rev1 ID] OX Dovecot Pro ready.", "Dovecot Pro", "",
     "cpe:2.3:a:open-xchange:dovecot_pro:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK Open-Xchange IMAP server ready", "Open-Xchange", "",
     "cpe:2.3:a:open-xchange:open-xchange_appsuite:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS] mail.example.org Cyrus IMAP "
     "v2.4.17-Debian-2.4.17+caldav~beta9-3 server ready",
     "Cyrus IMAP", "2.4.17", "cpe:2.3:a:cmu:cyrus_imap_server:2.4.17:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK mail.example.org Cyrus IMAP4 v2.2.13 server ready", "Cyrus IMAP",
     "2.2.13", "cpe:2.3:a:cmu:cyrus_imap_server:2.2.13:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK mail.example.org Cyrus POP3 v3.0.8-Debian-3.0.8-6 server ready <1896.1@x>",
     "Cyrus IMAP", "3.0.8", "cpe:2.3:a:cmu:cyrus_imap_server:3.0.8:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
     "THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS] Courier-IMAP ready. Copyright "
     "1998-2018 Double Precision, Inc.  See COPYING for distribution information.",
     "Courier-IMAP", "", "cpe:2.3:a:courier-mta:courier-imap:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Hello there.", "Courier-IMAP", "",
     "cpe:2.3:a:courier-mta:courier-imap:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK The Microsoft Exchange IMAP4 service is ready.", "Microsoft Exchange", "",
     "cpe:2.3:a:microsoft:exchange_server:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK The Microsoft Exchange POP3 service is ready. [QQBNADkAUABSADAAMQ==]",
     "Microsoft Exchange", "", "cpe:2.3:a:microsoft:exchange_server:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP,
     "* OK Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 (mx.example.com) "
     "ready.",
     "Microsoft Exchange", "6.5.7638.1",
     "cpe:2.3:a:microsoft:exchange_server:6.5.7638.1:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK mail.example.com Zimbra IMAP4rev1 server ready", "Zimbra", "",
     "cpe:2.3:a:zimbra:collaboration:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK mail.example.com Zimbra POP3 server ready", "Zimbra", "",
     "cpe:2.3:a:zimbra:collaboration:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK IMAPrev1", "hMailServer", "",
     "cpe:2.3:a:hmailserver:hmailserver:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK POP3", "hMailServer", "",
     "cpe:2.3:a:hmailserver:hmailserver:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Welcome to hMailServer 5.6.8", "hMailServer", "5.6.8",
     "cpe:2.3:a:hmailserver:hmailserver:5.6.8:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK mail.example.com IMAP4rev1 MDaemon 19.5.2 ready", "MDaemon", "19.5.2",
     "cpe:2.3:a:alt-n:mdaemon:19.5.2:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK mail.example.com POP MDaemon 13.0.3 ready <MDAEMON-F2018@x>", "MDaemon",
     "13.0.3", "cpe:2.3:a:alt-n:mdaemon:13.0.3:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK Kerio Connect 9.2.7 IMAP4rev1 server ready", "Kerio Connect", "9.2.7",
     "cpe:2.3:a:kerio:connect:9.2.7:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Kerio MailServer 6.7.3 POP3 server ready <1.2@x>", "Kerio MailServer",
     "6.7.3", "cpe:2.3:a:kerio:kerio_mailserver:6.7.3:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK IceWarp 12.0.3.1 IMAP4rev1 Mon, 01 Jan 2024 10:00:00 +0100", "IceWarp",
     "12.0.3.1", "cpe:2.3:a:icewarp:mail_server:12.0.3.1:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK mail.example.com Merak 8.9.1 POP3 Mon, 01 Jan 2007", "IceWarp", "8.9.1",
     "cpe:2.3:a:icewarp:mail_server:8.9.1:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK Axigen-IMAP server ready", "Axigen", "",
     "cpe:2.3:a:axigen:axigen_mail_server:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Axigen-POP3 server ready", "Axigen", "",
     "cpe:2.3:a:axigen:axigen_mail_server:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK <12345.1700000000@mail.example.com>", "qmail", "",
     "cpe:2.3:a:djb:qmail:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK vpopmail 5.4.33 ready", "vpopmail", "5.4.33",
     "cpe:2.3:a:inter7:vpopmail:5.4.33:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4REV1 I18NLEVEL=1 LITERAL+ SASL-IR LOGIN-REFERRALS "
     "STARTTLS] localhost IMAP4rev1 2007f.404 at Mon, 1 Jan 2024 10:00:00 +0000 (UTC)",
     "UW IMAP", "2007f.404", NULL},
    {MC_PROTO_POP3, "+OK POP3 mail.example.edu v2007f.104 server ready", "UW IMAP", "2007f.104",
     NULL},
    {MC_PROTO_IMAP, "* OK IMAP4rev1", "GNU Mailutils", "",
     "cpe:2.3:a:gnu:mailutils:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK Gimap ready for requests from 192.0.2.7 a10mb123456qkb", "Gmail", "",
     NULL},
    {MC_PROTO_POP3, "+OK Gpop ready for requests from 192.0.2.7 a10mb123456qkb", "Gmail", "", NULL},
    {MC_PROTO_IMAP,
     "* OK Yandex IMAP4rev1 at imap.yandex.ru:993 ready to talk with 192.0.2.7:51234, 2024-Jan-01 "
     "10:00:00, aBcDeF",
     "Yandex Mail", "", NULL},
    {MC_PROTO_POP3, "+OK POP Ya! na@8 aBcDeFgHiJ", "Yandex Mail", "", NULL},
    {MC_PROTO_IMAP, "* OK Zoho Mail IMAP4rev1 Server ready", "Zoho Mail", "", NULL},
    {MC_PROTO_POP3, "+OK Zoho Mail POP3 Server ready", "Zoho Mail", "", NULL},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY st11p00mm-iscream009 1Q49 XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR "
     "AUTH=ATOKEN AUTH=PLAIN] iSCREAM ready to rumble (1Q49:4) st11p00mm-iscream009",
     "Apple iCloud Mail", "", NULL},
    {MC_PROTO_IMAP, "* OK Domino IMAP4 Server Release 9.0.1FP10 ready Mon, 1 Jan 2024 10:00:00",
     "Lotus Domino", "9.0.1FP10", "cpe:2.3:a:ibm:lotus_domino:9.0.1fp10:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Lotus Notes POP3 server version X2.0 ready <0025@x> on mail.example.com.",
     "Lotus Domino", "", "cpe:2.3:a:ibm:lotus_domino:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK", "popa3d", "", "cpe:2.3:a:openwall:popa3d:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK IMAP4 ready", "nginx", "", "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK POP3 ready", "nginx", "", "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Qpopper (version 4.1.0) at mail.example.com starting.", "Qpopper", "4.1.0",
     "cpe:2.3:a:qualcomm:qpopper:4.1.0:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK CommuniGate Pro IMAP Server 6.2.5 at mail.example.com ready",
     "CommuniGate Pro", "6.2.5", "cpe:2.3:a:stalker:communigate_pro:6.2.5:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK IMAP4rev1 SmarterMail", "SmarterMail", "",
     "cpe:2.3:a:smartertools:smartermail:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK Welcome to MailEnable POP3 Server", "MailEnable", "",
     "cpe:2.3:a:mailenable:mailenable:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK GroupWise IMAP4rev1 Server Ready", "GroupWise", "",
     "cpe:2.3:a:novell:groupwise:*:*:*:*:*:*:*:*"},
    {MC_PROTO_POP3, "+OK mail.example.org POP3 server (JAMES POP3 Server 2.3.2) ready",
     "Apache James", "2.3.2", "cpe:2.3:a:apache:james:2.3.2:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK JAMES IMAP4rev1 Server  Server mail.example.org is ready.",
     "Apache James", "", "cpe:2.3:a:apache:james:*:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK IMAP4 Server (IMail 12.5.5)", "Ipswitch IMail", "12.5.5",
     "cpe:2.3:a:ipswitch:imail:12.5.5:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK mail.example.org IMAP4rev1 Mercury/32 v4.62 server ready.", "Mercury/32",
     "4.62", NULL},
    {MC_PROTO_IMAP, "* OK mail.example.org Citadel server ready.", "Citadel", "", NULL},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4 IMAP4rev1 ACL QUOTA LITERAL+ NAMESPACE UIDPLUS CHILDREN] "
     "mx.example.com Oracle Communications Messaging Server 8.0.2.3.20180615 IMAP4 service",
     "Oracle Communications Messaging Server", "8.0.2.3.20180615",
     "cpe:2.3:a:oracle:communications_messaging_server:8.0.2.3.20180615:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP, "* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Kopano IMAP Gateway ready",
     "Kopano", "", NULL},
    {MC_PROTO_POP3, "+OK Zarafa POP3 gateway ready", "Zarafa", "", NULL},
    {MC_PROTO_IMAP, "* OK Coremail System IMap Server Ready(163com[20141201])", "Coremail", "",
     NULL},
    {MC_PROTO_IMAP,
     "* OK [CAPABILITY IMAP4rev1 ID MOVE NAMESPACE XYMHIGHESTMODSEQ UIDPLUS LITERAL+ CHILDREN] "
     "IMAP4rev1 imapgate-1.8.1_01.20166 imap1067.mail.ne1.yahoo.com",
     "Yahoo Mail", "1.8.1", NULL},
    {MC_PROTO_IMAP, "* OK dbmail imap (protocol version 4r1) server 3.2.3 ready to run", "DBMail",
     "3.2.3", "cpe:2.3:a:dbmail:dbmail:3.2.3:*:*:*:*:*:*:*"},
    {MC_PROTO_IMAP,
     "* OK Welcome to Binc IMAP v1.3.4 Copyright (C) 2002-2005 Andreas Aardal Hanssen", "Binc IMAP",
     "1.3.4", NULL},
    {MC_PROTO_IMAP, "* OK Stalwart IMAP4rev2 at your service.", "Stalwart Mail Server", "", NULL},
    /* generic greetings name nobody */
    {MC_PROTO_IMAP, "* OK IMAP server ready", NULL, NULL, NULL},
    {MC_PROTO_POP3, "+OK POP3 server ready <1.2@x>", NULL, NULL, NULL},
    {MC_PROTO_POP3, "+OK <abc.123@host>", NULL, NULL, NULL},
    {MC_PROTO_POP3, "+OK <12.34@host> trailing", NULL, NULL, NULL},
    /* a form for the other protocol does not count */
    {MC_PROTO_IMAP, "+OK POP3 ready", NULL, NULL, NULL},
    {MC_PROTO_POP3, "* OK IMAP4 ready", NULL, NULL, NULL},
};

static void identify_banner(struct mc_record *rec, enum mc_proto proto, const char *banner)
{
	memset(rec, 0, sizeof(*rec));
	rec->proto = proto;
	rec->banner_len = (uint16_t)strlen(banner);
	memcpy(rec->banner, banner, rec->banner_len);
	probe_software_identify(rec);
}

static void test_banners(void)
{
	struct mc_record rec;

	for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]); i++) {
		const struct banner_case *c = &banners[i];
		int before = test_failures;

		identify_banner(&rec, c->proto, c->banner);
		if (c->product == NULL) {
			CHECK_INT_EQ(rec.software.evidence, MC_SW_NONE);
			CHECK_STR_EQ(rec.software.product, "");
		} else {
			CHECK_INT_EQ(rec.software.evidence, MC_SW_BANNER);
			CHECK_STR_EQ(rec.software.product, c->product);
			CHECK_STR_EQ(rec.software.version, c->version);
			CHECK_STR_EQ(rec.software.cpe, c->cpe ? c->cpe : "");
		}
		if (test_failures != before)
			fprintf(stderr, "  banner %zu: %s\n", i, c->banner);
	}
}

/* Every product of the table has at least one recorded banner above. */
static void test_every_product_recorded(void)
{
	for (size_t i = 0; i < probe_sw_table_size(); i++) {
		const char *p = probe_sw_table_product(i);
		bool seen = false;

		for (size_t k = 0; k < sizeof(banners) / sizeof(banners[0]) && !seen; k++)
			seen = banners[k].product && strcmp(banners[k].product, p) == 0;
		if (!seen)
			fprintf(stderr, "  no recorded banner for %s\n", p);
		CHECK(seen);
	}
	CHECK(probe_sw_table_size() >= 40);
}

static void test_id_request(void)
{
	char buf[PROBE_TX_MAX];
	char contact[PROBE_CONTACT_MAX + 2];

	CHECK(probe_sw_id_request(buf, sizeof(buf), "a5", "https://scan.example/abuse") > 0);
	CHECK_STR_EQ(buf, "a5 ID (\"name\" \"mailcensus\" \"version\" \"" MC_VERSION
			  "\" \"contact\" \"https://scan.example/abuse\")\r\n");
	CHECK(probe_sw_id_request(buf, sizeof(buf), "a6", NULL) > 0);
	CHECK_STR_EQ(buf, "a6 ID (\"name\" \"mailcensus\" \"version\" \"" MC_VERSION "\")\r\n");
	CHECK_UINT_EQ(probe_sw_id_request(buf, sizeof(buf), "a5", "bad\"quote"), 0);
	CHECK(!probe_sw_contact_valid("a\\b"));
	CHECK(!probe_sw_contact_valid("line\r\nbreak"));
	CHECK(!probe_sw_contact_valid(""));
	memset(contact, 'x', sizeof(contact) - 1);
	contact[sizeof(contact) - 1] = '\0';
	CHECK(!probe_sw_contact_valid(contact)); /* 65 bytes */
	contact[PROBE_CONTACT_MAX] = '\0';
	CHECK(probe_sw_contact_valid(contact));
	/* the longest contact still fits the session's request buffer */
	CHECK(probe_sw_id_request(buf, sizeof(buf), "a5", contact) > 0);
	CHECK(probe_sw_id_request(buf, 20, "a5", NULL) == 0);
}

static void test_id_line(void)
{
	struct mc_software sw;

	memset(&sw, 0, sizeof(sw));
	CHECK(probe_sw_id_line(&sw,
			       "* ID (\"name\" \"Cyrus IMAPD\" \"version\" "
			       "\"3.0.8-Debian-3.0.8-6\" \"vendor\" \"Project Cyrus\")",
			       82));
	CHECK_STR_EQ(sw.id_name, "Cyrus IMAPD");
	CHECK_STR_EQ(sw.id_version, "3.0.8-Debian-3.0.8-6");
	memset(&sw, 0, sizeof(sw));
	CHECK(probe_sw_id_line(&sw, "* ID NIL", 8));
	CHECK_STR_EQ(sw.id_name, "");
	CHECK(!probe_sw_id_line(&sw, "* OK hi", 7));
	/* NIL values, escapes, an unterminated string: bounded, no crash */
	const char *odd = "* ID (\"name\" NIL \"version\" \"1\\\"2\" \"name\" \"Dove";
	CHECK(probe_sw_id_line(&sw, odd, strlen(odd)));
	CHECK_STR_EQ(sw.id_name, "");
	CHECK_STR_EQ(sw.id_version, "1\"2");
	/* an over-long value is cut at the field size */
	char longline[400];
	int n = snprintf(longline, sizeof(longline), "* ID (\"name\" \"%0300d\")", 7);
	CHECK(probe_sw_id_line(&sw, longline, (size_t)n));
	CHECK_UINT_EQ(strlen(sw.id_name), MC_SW_NAME_MAX - 1);
}

/* Evidence order: ID beats IMPLEMENTATION beats the banner; versions. */
static void test_evidence_order(void)
{
	struct mc_record rec;

	identify_banner(&rec, MC_PROTO_IMAP,
			"* OK mail.example.org Cyrus IMAP v2.4.17 server ready");
	CHECK_STR_EQ(rec.software.version, "2.4.17");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "Cyrus IMAPD");
	snprintf(rec.software.id_version, MC_SW_NAME_MAX, "3.0.8-Debian-3.0.8-6");
	probe_software_identify(&rec);
	CHECK_INT_EQ(rec.software.evidence, MC_SW_IMAP_ID);
	CHECK_STR_EQ(rec.software.product, "Cyrus IMAP");
	CHECK_STR_EQ(rec.software.version, "3.0.8");
	CHECK_STR_EQ(rec.software.cpe, "cpe:2.3:a:cmu:cyrus_imap_server:3.0.8:*:*:*:*:*:*:*");

	/* ID without a version: the banner's version of the same product */
	identify_banner(&rec, MC_PROTO_IMAP,
			"* OK mail.example.org Cyrus IMAP v2.4.17 server ready");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "Cyrus IMAPD");
	probe_software_identify(&rec);
	CHECK_STR_EQ(rec.software.version, "2.4.17");

	/* Zimbra's ID version "8.8.15_GA_4484" */
	identify_banner(&rec, MC_PROTO_IMAP, "* OK IMAP ready");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "Zimbra");
	snprintf(rec.software.id_version, MC_SW_NAME_MAX, "8.8.15_GA_4484");
	probe_software_identify(&rec);
	CHECK_STR_EQ(rec.software.product, "Zimbra");
	CHECK_STR_EQ(rec.software.version, "8.8.15");
	CHECK_STR_EQ(rec.software.cpe, "cpe:2.3:a:zimbra:collaboration:8.8.15:*:*:*:*:*:*:*");

	/* a name source carrying its version after the name */
	identify_banner(&rec, MC_PROTO_IMAP, "* OK ready");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "GNU Mailutils 3.15");
	probe_software_identify(&rec);
	CHECK_STR_EQ(rec.software.product, "GNU Mailutils");
	CHECK_STR_EQ(rec.software.version, "3.15");

	/* Gmail names itself "GImap"; an unknown name is kept, without CPE */
	identify_banner(&rec, MC_PROTO_IMAP, "* OK ready");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "GImap");
	probe_software_identify(&rec);
	CHECK_STR_EQ(rec.software.product, "Gmail");
	identify_banner(&rec, MC_PROTO_IMAP, "* OK Dovecot ready.");
	snprintf(rec.software.id_name, MC_SW_NAME_MAX, "FancyMail");
	snprintf(rec.software.id_version, MC_SW_NAME_MAX, "7b");
	probe_software_identify(&rec);
	CHECK_INT_EQ(rec.software.evidence, MC_SW_IMAP_ID);
	CHECK_STR_EQ(rec.software.product, "FancyMail");
	CHECK_STR_EQ(rec.software.version, "7b");
	CHECK_STR_EQ(rec.software.cpe, "");

	/* POP3 IMPLEMENTATION beats the banner */
	identify_banner(&rec, MC_PROTO_POP3, "+OK Dovecot ready.");
	mc_caps_add(&rec.caps_pre_tls, "USER", 4);
	mc_caps_add(&rec.caps_pre_tls, "IMPLEMENTATION Cyrus POP3 v2.4.17", 33);
	probe_software_identify(&rec);
	CHECK_INT_EQ(rec.software.evidence, MC_SW_POP3_IMPL);
	CHECK_STR_EQ(rec.software.product, "Cyrus IMAP");
	CHECK_STR_EQ(rec.software.version, "2.4.17");
	CHECK_STR_EQ(rec.software.implementation, "Cyrus POP3 v2.4.17");
	identify_banner(&rec, MC_PROTO_POP3, "+OK ready");
	mc_caps_add(&rec.caps_post_tls, "IMPLEMENTATION Zimbra", 21);
	probe_software_identify(&rec);
	CHECK_STR_EQ(rec.software.product, "Zimbra");
	CHECK_INT_EQ(rec.software.evidence, MC_SW_POP3_IMPL);
}

/* The IMAP machine asks ID before and after TLS when it is advertised. */
static void test_imap_id_exchange(void)
{
	static const char plain[] =
	    "* OK [CAPABILITY IMAP4rev1 ID STARTTLS] Dovecot (Debian) ready.\r\n"
	    "* ID (\"name\" \"Dovecot\")\r\n"
	    "a7 OK ID completed.\r\n"
	    "a2 OK Begin TLS negotiation now.\r\n";
	static const char tls[] = "* CAPABILITY IMAP4rev1 ID AUTH=PLAIN\r\n"
				  "a4 OK Pre-login capabilities listed.\r\n"
				  "* ID (\"name\" \"Dovecot\" \"version\" \"2.3.19\")\r\n"
				  "a8 OK ID completed.\r\n";
	struct drive d;
	int before = test_failures;

	for (size_t cut = 0; cut <= strlen(plain) && test_failures == before; cut++) {
		drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
		d.s.login_probe = false; /* the login probe has its own tests (test_login) */
		d.s.contact = "abuse@scan.example";
		drive_script(&d, plain, cut, tls, 0);
		if (!d.s.done)
			fprintf(stderr, "  split at %zu\n", cut);
		CHECK(d.s.done);
		CHECK_STR_EQ(d.rec.error, "");
		CHECK_STR_EQ(d.sent, "a7 ID (\"name\" \"mailcensus\" \"version\" \"" MC_VERSION
				     "\" \"contact\" \"abuse@scan.example\")\r\n"
				     "a2 STARTTLS\r\na4 CAPABILITY\r\n"
				     "a8 ID (\"name\" \"mailcensus\" \"version\" \"" MC_VERSION
				     "\" \"contact\" \"abuse@scan.example\")\r\n");
		probe_software_identify(&d.rec);
		CHECK_STR_EQ(d.rec.software.product, "Dovecot");
		CHECK_STR_EQ(d.rec.software.version, "2.3.19");
		CHECK_INT_EQ(d.rec.software.evidence, MC_SW_IMAP_ID);
	}
	/* ID refused: no error, the banner decides */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d,
		     "* OK [CAPABILITY IMAP4rev1 ID] Zimbra IMAP4rev1 server ready\r\n"
		     "a7 BAD unknown\r\na2 NO no tls\r\n",
		     0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, "");
	probe_software_identify(&d.rec);
	CHECK_INT_EQ(d.rec.software.evidence, MC_SW_BANNER);
	CHECK_STR_EQ(d.rec.software.product, "Zimbra");
	/* no ID advertised: none sent */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d, "* OK [CAPABILITY IMAP4rev1] hi\r\na2 NO\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\n");
}

int main(void)
{
	RUN(test_banners);
	RUN(test_every_product_recorded);
	RUN(test_id_request);
	RUN(test_id_line);
	RUN(test_evidence_order);
	RUN(test_imap_id_exchange);
	return test_summary();
}
