/**
 * What a state function returns (miros `return_status`, Samek's Q_RET_*).
 * The numbers are miros's: the engine tests `r >= ReturnStatus.TRAN` for
 * "some kind of transition", so the order matters.
 */
export enum ReturnStatus {
  SUPER = 1,
  SUPER_SUB = 2,
  UNHANDLED = 3,
  HANDLED = 4,
  IGNORED = 5,
  ENTRY = 6,
  EXIT = 7,
  NULL = 8,
  TRAN = 9,
  TRAN_INIT = 10,
  TRAN_HIST = 11,
  TRAN_EP = 12,
  TRAN_XP = 13,
}
