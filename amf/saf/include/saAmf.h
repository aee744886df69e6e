/* amf's SA Forum AMF C API (SAI-AIS-AMF B.01.01, the component's side), for SA-aware
 * components written against OpenSAF's headers. Names, types and values are the
 * specification's; the library behind them (libSaAmf) is amf's component library. What is
 * covered, and how each call maps to amf, is in amf/saf/README.md. */
#ifndef _SA_AMF_H
#define _SA_AMF_H

#include "saAis.h"
#include "saNtf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As OpenSAF's header: the B.01 API is the one declared. */
#define SA_AMF_B01

typedef SaUint64T SaAmfHandleT;

typedef enum {
  SA_AMF_HEALTHCHECK_AMF_INVOKED = 1,
  SA_AMF_HEALTHCHECK_COMPONENT_INVOKED = 2
} SaAmfHealthcheckInvocationT;

#define SA_AMF_HEALTHCHECK_KEY_MAX 32
typedef struct {
  SaUint8T key[SA_AMF_HEALTHCHECK_KEY_MAX];
  SaUint16T keyLen;
} SaAmfHealthcheckKeyT;

typedef enum {
  SA_AMF_HA_ACTIVE = 1,
  SA_AMF_HA_STANDBY = 2,
  SA_AMF_HA_QUIESCED = 3,
  SA_AMF_HA_QUIESCING = 4
} SaAmfHAStateT;

typedef enum {
  SA_AMF_READINESS_OUT_OF_SERVICE = 1,
  SA_AMF_READINESS_IN_SERVICE = 2,
  SA_AMF_READINESS_STOPPING = 3
} SaAmfReadinessStateT;

typedef enum {
  SA_AMF_PRESENCE_UNINSTANTIATED = 1,
  SA_AMF_PRESENCE_INSTANTIATING = 2,
  SA_AMF_PRESENCE_INSTANTIATED = 3,
  SA_AMF_PRESENCE_TERMINATING = 4,
  SA_AMF_PRESENCE_RESTARTING = 5,
  SA_AMF_PRESENCE_INSTANTIATION_FAILED = 6,
  SA_AMF_PRESENCE_TERMINATION_FAILED = 7
} SaAmfPresenceStateT;

typedef enum {
  SA_AMF_OPERATIONAL_ENABLED = 1,
  SA_AMF_OPERATIONAL_DISABLED = 2
} SaAmfOperationalStateT;

typedef enum {
  SA_AMF_ADMIN_UNLOCKED = 1,
  SA_AMF_ADMIN_LOCKED = 2,
  SA_AMF_ADMIN_LOCKED_INSTANTIATION = 3,
  SA_AMF_ADMIN_SHUTTING_DOWN = 4
} SaAmfAdminStateT;

#define SA_AMF_CSI_ADD_ONE 0x1
#define SA_AMF_CSI_TARGET_ONE 0x2
#define SA_AMF_CSI_TARGET_ALL 0x4
typedef SaUint32T SaAmfCSIFlagsT;

typedef enum {
  SA_AMF_CSI_NEW_ASSIGN = 1,
  SA_AMF_CSI_QUIESCED = 2,
  SA_AMF_CSI_NOT_QUIESCED = 3,
  SA_AMF_CSI_STILL_ACTIVE = 4
} SaAmfCSITransitionDescriptorT;

typedef struct {
  SaAmfCSITransitionDescriptorT transitionDescriptor;
  SaNameT activeCompName;
} SaAmfCSIActiveDescriptorT;

typedef struct {
  SaNameT activeCompName;
  SaUint32T standbyRank;
} SaAmfCSIStandbyDescriptorT;

typedef union {
  SaAmfCSIActiveDescriptorT activeDescriptor;
  SaAmfCSIStandbyDescriptorT standbyDescriptor;
} SaAmfCSIStateDescriptorT;

typedef struct {
  SaUint8T* attrName;
  SaUint8T* attrValue;
} SaAmfCSIAttributeT;

typedef struct {
  SaAmfCSIAttributeT* attr;
  SaUint32T number;
} SaAmfCSIAttributeListT;

typedef struct {
  SaAmfCSIFlagsT csiFlags;
  SaNameT csiName;
  SaAmfCSIStateDescriptorT csiStateDescriptor;
  SaAmfCSIAttributeListT csiAttr;
} SaAmfCSIDescriptorT;

typedef enum {
  SA_AMF_PROTECTION_GROUP_NO_CHANGE = 1,
  SA_AMF_PROTECTION_GROUP_ADDED = 2,
  SA_AMF_PROTECTION_GROUP_REMOVED = 3,
  SA_AMF_PROTECTION_GROUP_STATE_CHANGE = 4
} SaAmfProtectionGroupChangesT;

typedef struct {
  SaNameT compName;
  SaAmfHAStateT haState;
  SaUint32T rank;
} SaAmfProtectionGroupMemberT;

typedef struct {
  SaAmfProtectionGroupMemberT member;
  SaAmfProtectionGroupChangesT change;
} SaAmfProtectionGroupNotificationT;

typedef struct {
  SaUint32T numberOfItems;
  SaAmfProtectionGroupNotificationT* notification;
} SaAmfProtectionGroupNotificationBufferT;

typedef enum {
  SA_AMF_NO_RECOMMENDATION = 1,
  SA_AMF_COMPONENT_RESTART = 2,
  SA_AMF_COMPONENT_FAILOVER = 3,
  SA_AMF_NODE_SWITCHOVER = 4,
  SA_AMF_NODE_FAILOVER = 5,
  SA_AMF_NODE_FAILFAST = 6,
  SA_AMF_CLUSTER_RESET = 7,
  SA_AMF_APPLICATION_RESTART = 8,
  SA_AMF_CONTAINER_RESTART = 9
} SaAmfRecommendedRecoveryT;

#define SA_AMF_PM_ZERO_EXIT 0x1
#define SA_AMF_PM_NON_ZERO_EXIT 0x2
#define SA_AMF_PM_ABNORMAL_END 0x4
typedef SaUint32T SaAmfPmErrorsT;

typedef enum {
  SA_AMF_PM_PROC = 1,
  SA_AMF_PM_PROC_AND_DESCENDENTS = 2,
  SA_AMF_PM_ALL_PROCESSES = 3
} SaAmfPmStopQualifierT;

/* ---- callbacks ---- */

typedef void (*SaAmfHealthcheckCallbackT)(SaInvocationT invocation, const SaNameT* compName,
                                          SaAmfHealthcheckKeyT* healthcheckKey);
typedef void (*SaAmfComponentTerminateCallbackT)(SaInvocationT invocation, const SaNameT* compName);
typedef void (*SaAmfCSISetCallbackT)(SaInvocationT invocation, const SaNameT* compName,
                                     SaAmfHAStateT haState, SaAmfCSIDescriptorT csiDescriptor);
typedef void (*SaAmfCSIRemoveCallbackT)(SaInvocationT invocation, const SaNameT* compName,
                                        const SaNameT* csiName, SaAmfCSIFlagsT csiFlags);
typedef void (*SaAmfProtectionGroupTrackCallbackT)(
    const SaNameT* csiName, SaAmfProtectionGroupNotificationBufferT* notificationBuffer,
    SaUint32T numberOfMembers, SaAisErrorT error);
typedef void (*SaAmfProxiedComponentInstantiateCallbackT)(SaInvocationT invocation,
                                                          const SaNameT* proxiedCompName);
typedef void (*SaAmfProxiedComponentCleanupCallbackT)(SaInvocationT invocation,
                                                      const SaNameT* proxiedCompName);

typedef struct {
  SaAmfHealthcheckCallbackT saAmfHealthcheckCallback;
  SaAmfComponentTerminateCallbackT saAmfComponentTerminateCallback;
  SaAmfCSISetCallbackT saAmfCSISetCallback;
  SaAmfCSIRemoveCallbackT saAmfCSIRemoveCallback;
  SaAmfProtectionGroupTrackCallbackT saAmfProtectionGroupTrackCallback;
  SaAmfProxiedComponentInstantiateCallbackT saAmfProxiedComponentInstantiateCallback;
  SaAmfProxiedComponentCleanupCallbackT saAmfProxiedComponentCleanupCallback;
} SaAmfCallbacksT;

/* ---- the library's life cycle ---- */

extern SaAisErrorT saAmfInitialize(SaAmfHandleT* amfHandle, const SaAmfCallbacksT* amfCallbacks,
                                   SaVersionT* version);
extern SaAisErrorT saAmfSelectionObjectGet(SaAmfHandleT amfHandle,
                                           SaSelectionObjectT* selectionObject);
extern SaAisErrorT saAmfDispatch(SaAmfHandleT amfHandle, SaDispatchFlagsT dispatchFlags);
extern SaAisErrorT saAmfFinalize(SaAmfHandleT amfHandle);

/* ---- the component ---- */

extern SaAisErrorT saAmfComponentRegister(SaAmfHandleT amfHandle, const SaNameT* compName,
                                          const SaNameT* proxyCompName);
extern SaAisErrorT saAmfComponentUnregister(SaAmfHandleT amfHandle, const SaNameT* compName,
                                            const SaNameT* proxyCompName);
extern SaAisErrorT saAmfComponentNameGet(SaAmfHandleT amfHandle, SaNameT* compName);

extern SaAisErrorT saAmfPmStart(SaAmfHandleT amfHandle, const SaNameT* compName,
                                SaUint64T processId, SaInt32T descendentsTreeDepth,
                                SaAmfPmErrorsT pmErrors,
                                SaAmfRecommendedRecoveryT recommendedRecovery);
extern SaAisErrorT saAmfPmStop(SaAmfHandleT amfHandle, const SaNameT* compName,
                               SaAmfPmStopQualifierT stopQualifier, SaInt64T processId,
                               SaAmfPmErrorsT pmErrors);

extern SaAisErrorT saAmfHealthcheckStart(SaAmfHandleT amfHandle, const SaNameT* compName,
                                         const SaAmfHealthcheckKeyT* healthcheckKey,
                                         SaAmfHealthcheckInvocationT invocationType,
                                         SaAmfRecommendedRecoveryT recommendedRecovery);
extern SaAisErrorT saAmfHealthcheckConfirm(SaAmfHandleT amfHandle, const SaNameT* compName,
                                           const SaAmfHealthcheckKeyT* healthcheckKey,
                                           SaAisErrorT healthcheckResult);
extern SaAisErrorT saAmfHealthcheckStop(SaAmfHandleT amfHandle, const SaNameT* compName,
                                        const SaAmfHealthcheckKeyT* healthcheckKey);

/* ---- workload ---- */

extern SaAisErrorT saAmfHAStateGet(SaAmfHandleT amfHandle, const SaNameT* compName,
                                   const SaNameT* csiName, SaAmfHAStateT* haState);
extern SaAisErrorT saAmfCSIQuiescingComplete(SaAmfHandleT amfHandle, SaInvocationT invocation,
                                             SaAisErrorT error);
extern SaAisErrorT saAmfProtectionGroupTrack(
    SaAmfHandleT amfHandle, const SaNameT* csiName, SaUint8T trackFlags,
    SaAmfProtectionGroupNotificationBufferT* notificationBuffer);
extern SaAisErrorT saAmfProtectionGroupTrackStop(SaAmfHandleT amfHandle, const SaNameT* csiName);
extern SaAisErrorT saAmfProtectionGroupNotificationFree(
    SaAmfHandleT amfHandle, SaAmfProtectionGroupNotificationT* notification);

/* ---- errors and answers ---- */

extern SaAisErrorT saAmfComponentErrorReport(SaAmfHandleT amfHandle,
                                             const SaNameT* erroneousComponent,
                                             SaTimeT errorDetectionTime,
                                             SaAmfRecommendedRecoveryT recommendedRecovery,
                                             SaNtfIdentifierT ntfIdentifier);
extern SaAisErrorT saAmfComponentErrorClear(SaAmfHandleT amfHandle, const SaNameT* compName,
                                            SaNtfIdentifierT ntfIdentifier);
extern SaAisErrorT saAmfResponse(SaAmfHandleT amfHandle, SaInvocationT invocation,
                                 SaAisErrorT error);

#ifdef __cplusplus
}
#endif

#endif /* _SA_AMF_H */
