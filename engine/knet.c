/* knet.c — rtnetlink requests for the kernel path (knet.h).
 *
 * One NETLINK_ROUTE socket per request: build the message with its
 * attributes in a fixed buffer, send it with NLM_F_ACK, read the one
 * NLMSG_ERROR answer (error 0 is the acknowledgement). */
#include "knet.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KNET_BUF 512

struct knet_msg {
	struct nlmsghdr *h;
	char buf[KNET_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void *msg_init(struct knet_msg *m, uint16_t type, uint16_t flags, size_t body)
{
	memset(m->buf, 0, sizeof(m->buf));
	m->h = (struct nlmsghdr *)m->buf;
	m->h->nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	m->h->nlmsg_type = type;
	m->h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h->nlmsg_seq = 1;
	return NLMSG_DATA(m->h);
}

/* Append an attribute; the buffer is far larger than any message here. */
static void attr(struct knet_msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->h->nlmsg_len = (uint32_t)(NLMSG_ALIGN(m->h->nlmsg_len) + RTA_ALIGN(a->rta_len));
}

static void attr_u32(struct knet_msg *m, uint16_t type, uint32_t v)
{
	attr(m, type, &v, sizeof(v));
}

static void attr_ip(struct knet_msg *m, uint16_t type, uint32_t ip)
{
	uint32_t be = htonl(ip);

	attr(m, type, &be, sizeof(be));
}

static int talk(struct knet_msg *m)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	char reply[KNET_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *r = (const struct nlmsghdr *)reply;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc;
	ssize_t n;

	if (fd < 0)
		return -errno;
	rc = sendto(fd, m->buf, m->h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0
		 ? -errno
		 : 0;
	if (rc == 0) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0)
			rc = -errno;
		else if (!NLMSG_OK(r, (size_t)n) || r->nlmsg_type != NLMSG_ERROR ||
			 r->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			rc = -EPROTO;
		else
			rc = ((const struct nlmsgerr *)NLMSG_DATA(r))->error;
	}
	close(fd);
	return rc;
}

int knet_addr_add(int ifindex, uint32_t ip)
{
	struct knet_msg m;
	struct ifaddrmsg *a =
	    msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));

	a->ifa_family = AF_INET;
	a->ifa_prefixlen = 32;
	a->ifa_scope = RT_SCOPE_UNIVERSE;
	a->ifa_index = (uint32_t)ifindex;
	attr_ip(&m, IFA_LOCAL, ip);
	attr_ip(&m, IFA_ADDRESS, ip);
	return talk(&m);
}

int knet_rule(bool add, uint32_t ip)
{
	struct knet_msg m;
	struct fib_rule_hdr *f = msg_init(&m, add ? RTM_NEWRULE : RTM_DELRULE,
					  add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*f));

	f->family = AF_INET;
	f->src_len = 32;
	f->action = FR_ACT_TO_TBL;
	f->table = RT_TABLE_UNSPEC;
	attr_ip(&m, FRA_SRC, ip);
	attr_u32(&m, FRA_TABLE, KNET_TABLE);
	attr_u32(&m, FRA_PRIORITY, KNET_RULE_PREF);
	return talk(&m);
}

int knet_route_default(int ifindex, uint32_t gw)
{
	struct knet_msg m;
	struct rtmsg *rt = msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = 0;
	rt->rtm_table = RT_TABLE_UNSPEC;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	rt->rtm_flags = RTNH_F_ONLINK;
	attr_u32(&m, RTA_TABLE, KNET_TABLE);
	attr_ip(&m, RTA_GATEWAY, gw);
	attr_u32(&m, RTA_OIF, (uint32_t)ifindex);
	return talk(&m);
}
