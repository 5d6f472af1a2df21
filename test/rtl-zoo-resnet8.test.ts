import { zooRtlSuite } from './helpers/zoo-rtl.js';

zooRtlSuite('resnet8');
