import { zooRtlSuite } from './helpers/zoo-rtl.js';

zooRtlSuite('mobilenet');
