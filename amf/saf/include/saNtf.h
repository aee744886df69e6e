/* The one part of the SA Forum notification service (SAI-AIS-NTF) that the AMF API names:
 * the notification identifier of saAmfComponentErrorReport. amf has no NTF service; see
 * amf/saf/README.md. */
#ifndef _SA_NTF_H
#define _SA_NTF_H

#include "saAis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SaUint64T SaNtfIdentifierT;
#define SA_NTF_IDENTIFIER_UNUSED ((SaNtfIdentifierT)0x0ULL)

#ifdef __cplusplus
}
#endif

#endif /* _SA_NTF_H */
